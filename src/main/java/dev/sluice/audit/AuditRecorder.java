package dev.sluice.audit;

import dev.sluice.frontend.ClientSession;
import dev.sluice.pool.DisconnectReason;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Listens to Sluice's client connections during an audit and keeps one {@link ConnectionRecord} per
 * connection, with the program that owns it when /proc can tell.
 */
public final class AuditRecorder implements ConnectionEvents {
    private final Map<ClientSession, ConnectionRecord> open = new ConcurrentHashMap<>();
    private final List<ConnectionRecord> all = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong ids = new AtomicLong();
    private volatile ProcessOwners owners;

    /** Without {@link #lookUpOwners}, connections are reported by client address only. */
    public AuditRecorder() {}

    /** Finds the program behind each new connection with {@code owners} (set before clients connect). */
    public void lookUpOwners(ProcessOwners owners) {
        this.owners = owners;
    }

    @Override
    public void opened(ClientSession client) {
        long now = System.nanoTime();
        String addr = "?";
        int port = 0;
        if (client.remoteAddress() instanceof InetSocketAddress i) {
            addr = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
            port = i.getPort();
        } else if (client.remoteAddress() != null) {
            addr = "local";
        }
        ConnectionRecord r = new ConnectionRecord(ids.incrementAndGet(), client.user(), client.database(),
                client.applicationName(), addr, port, now);
        open.put(client, r);
        all.add(r);
        ProcessOwners po = owners;
        if (po != null && port != 0) {
            // On the client's event loop, on purpose: the program waits for the answer to its first query
            // while /proc is read (a few ms), so even a psql -c that exits at once is found. Only the
            // audit's ephemeral proxy ever has a listener.
            ProcessOwners.Owner o = po.find(port);
            if (o != null) {
                r.setOwner(o.pid(), o.program());
            }
        }
    }

    @Override
    public void clientMessage(ClientSession client, byte type) {
        ConnectionRecord r = open.get(client);
        if (r != null) {
            r.onMessage(type, System.nanoTime());
        }
    }

    @Override
    public void readyForQuery(ClientSession client, byte txnStatus) {
        ConnectionRecord r = open.get(client);
        if (r != null) {
            r.onReadyForQuery(txnStatus, System.nanoTime());
        }
    }

    @Override
    public void closed(ClientSession client, DisconnectReason reason) {
        ConnectionRecord r = open.remove(client);
        if (r == null) {
            return;
        }
        r.setApplicationName(client.applicationName());
        ConnectionRecord.Ending ending = switch (reason) {
            case CLIENT_TERMINATE -> ConnectionRecord.Ending.CLOSED;
            case CLIENT_CLOSED -> ConnectionRecord.Ending.ABANDONED;
            default -> ConnectionRecord.Ending.CLOSED_BY_SLUICE;
        };
        r.onClosed(reason.code(), ending, System.nanoTime());
    }

    /** Connections open right now. */
    public int openCount() {
        return open.size();
    }

    /** The command returned: marks what is still open; returns every connection in order of opening. */
    public List<ConnectionRecord> finish() {
        long now = System.nanoTime();
        for (Map.Entry<ClientSession, ConnectionRecord> e : open.entrySet()) {
            e.getValue().setApplicationName(e.getKey().applicationName());
            e.getValue().onStillOpen(now);
        }
        List<ConnectionRecord> copy;
        synchronized (all) {
            copy = new ArrayList<>(all);
        }
        copy.sort(Comparator.comparingLong(ConnectionRecord::id));
        return copy;
    }
}
