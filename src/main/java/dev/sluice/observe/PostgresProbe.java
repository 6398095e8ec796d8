package dev.sluice.observe;

import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.SluiceConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Can Sluice reach each PostgreSQL server of [databases]? For /readyz and the SluicePostgresUnreachable alert.
/**
 * Every {@code interval} each server (host:port, or Unix socket) gets a connection that logs in to nothing.
 * The first probe of a server sends an SSLRequest: 'N' or 'S' proves PostgreSQL is answering, not just
 * some listener. Later probes of a server that answered 'S' only connect and close, because PostgreSQL
 * logs an SSL connection abandoned after 'S' ("could not accept SSL connection: EOF detected") but does
 * not log a connection closed before any packet, or after 'N' (postmaster.c: service monitors do this).
 * No probe takes a max_connections slot: the postmaster answers before any backend logs in.
 *
 * <p>Runs on a daemon thread of its own (blocking I/O with a timeout), never on an event loop.
 */
public final class PostgresProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PostgresProbe.class);

    /** SSLRequest: length 8, code 1234.5679. */
    private static final int SSL_REQUEST_CODE = 80877103;

    /**
     * One probe's outcome.
     *
     * @param server    "host:port" (or the socket path)
     * @param databases the [databases] names routed to it
     * @param error     why it failed; null when reachable
     */
    public record Result(String server, List<String> databases, boolean reachable, double seconds, String error,
            Instant at) {
        public Result {
            databases = List.copyOf(databases);
        }
    }

    private record Target(String server, SocketAddress address, List<String> databases) {}

    private final Supplier<SluiceConfig> config;
    private final Duration timeout;
    private final Duration interval;
    private volatile List<Target> targets;
    private final Map<String, Result> results = new ConcurrentHashMap<>();
    /** Servers that answered an SSLRequest with 'S': probe them by connecting only, see the class comment. */
    private final Set<String> speaksSsl = ConcurrentHashMap.newKeySet();
    private final Map<String, Boolean> lastLogged = new ConcurrentHashMap<>();
    private ScheduledExecutorService executor;

    /** @param config read at every round, so servers added or removed by RELOAD are followed */
    public PostgresProbe(Supplier<SluiceConfig> config, Duration interval, Duration timeout) {
        this.config = config;
        this.interval = interval;
        this.timeout = timeout;
        this.targets = targets(config.get());
    }

    /** The distinct servers of [databases], each with the database names routed to it. */
    private static List<Target> targets(SluiceConfig config) {
        Map<String, Target> byServer = new LinkedHashMap<>();
        for (DatabaseConfig db : config.databases().values()) {
            String host = db.host() == null ? "127.0.0.1" : db.host();
            String server;
            SocketAddress address;
            if (host.startsWith("/")) {
                server = host + "/.s.PGSQL." + db.port();
                address = UnixDomainSocketAddress.of(Path.of(server));
            } else {
                server = (host.contains(":") ? "[" + host + "]" : host) + ":" + db.port();
                address = InetSocketAddress.createUnresolved(host, db.port());
            }
            Target t = byServer.computeIfAbsent(server, s -> new Target(s, address, new ArrayList<>()));
            t.databases().add(db.name());
        }
        return List.copyOf(byServer.values());
    }

    /** Probes now, then every interval. */
    public synchronized void start() {
        if (executor != null) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-probe");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::probeAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The latest result of every server, in [databases] order; servers not probed yet are missing. */
    public List<Result> results() {
        List<Result> out = new ArrayList<>();
        for (Target t : targets) {
            Result r = results.get(t.server());
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /** True once every server has been probed at least once. */
    public boolean complete() {
        return targets.stream().allMatch(t -> results.containsKey(t.server()));
    }

    public int targetCount() {
        return targets.size();
    }

    /** Probes every server once, on the calling thread; returns the results. */
    public List<Result> probeAll() {
        List<Target> now = targets(config.get());
        targets = now;
        results.keySet().retainAll(now.stream().map(Target::server).toList());
        for (Target t : now) {
            Result r = probe(t);
            results.put(t.server(), r);
            Boolean before = lastLogged.put(t.server(), r.reachable());
            if (before == null ? !r.reachable() : before != r.reachable()) {
                if (r.reachable()) {
                    log.info("PostgreSQL at {} is reachable again", t.server());
                } else {
                    log.warn("PostgreSQL at {} is unreachable: {}", t.server(), r.error());
                }
            }
        }
        return results();
    }

    private Result probe(Target t) {
        long start = System.nanoTime();
        String error = null;
        SocketAddress address = t.address();
        try {
            if (address instanceof InetSocketAddress i && i.isUnresolved()) {
                address = new InetSocketAddress(i.getHostString(), i.getPort()); // resolve on every probe: DNS may move
            }
            if (address instanceof InetSocketAddress i && i.isUnresolved()) {
                throw new IOException("cannot resolve host " + i.getHostString());
            }
            boolean askSsl = !speaksSsl.contains(t.server());
            char answer = connect(address, askSsl);
            if (askSsl) {
                if (answer == 'S') {
                    speaksSsl.add(t.server());
                } else if (answer != 'N') {
                    throw new IOException("the server at " + t.server() + " answered an SSLRequest with '"
                            + answer + "': not PostgreSQL?");
                }
            }
        } catch (IOException | RuntimeException e) {
            error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(t.server(), t.databases(), error == null, seconds, error, Instant.now());
    }

    /** Connects within the timeout; with askSsl, sends SSLRequest and returns the one-byte answer. */
    private char connect(SocketAddress address, boolean askSsl) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean unix = address instanceof UnixDomainSocketAddress;
        try (SocketChannel ch = unix ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            if (!ch.connect(address)) {
                ch.register(selector, SelectionKey.OP_CONNECT);
                if (selector.select(remainingMillis(deadline)) == 0) {
                    throw new IOException("connect timed out after " + timeout.toMillis() + " ms");
                }
                ch.finishConnect();
            }
            if (!askSsl) {
                return 0;
            }
            ByteBuffer req = ByteBuffer.allocate(8).putInt(8).putInt(SSL_REQUEST_CODE).flip();
            while (req.hasRemaining()) {
                ch.write(req);
            }
            ByteBuffer answer = ByteBuffer.allocate(1);
            ch.register(selector, SelectionKey.OP_READ);
            while (answer.hasRemaining()) {
                selector.selectedKeys().clear();
                if (selector.select(remainingMillis(deadline)) == 0) {
                    throw new IOException("no answer to SSLRequest within " + timeout.toMillis() + " ms");
                }
                if (ch.read(answer) < 0) {
                    throw new IOException("the server closed the connection without answering");
                }
            }
            return (char) answer.get(0);
        }
    }

    private static long remainingMillis(long deadline) throws IOException {
        long ms = (deadline - System.nanoTime()) / 1_000_000;
        if (ms <= 0) {
            throw new IOException("timed out");
        }
        return ms;
    }

    @Override
    public synchronized void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
