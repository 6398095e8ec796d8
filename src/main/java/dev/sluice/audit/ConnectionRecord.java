package dev.sluice.audit;

import java.util.concurrent.TimeUnit;

/**
 * What one client connection did, as `sluice audit` saw it through the proxy: when it opened and closed,
 * whether the program said goodbye (Terminate), its statements, its longest transaction and its longest
 * idle-in-transaction stretch. Updated on the client's event loop, read by the report: synchronized.
 */
public final class ConnectionRecord {
    /** How a connection ended, from the program's point of view. */
    public enum Ending {
        /** The program closed it (sent Terminate). */
        CLOSED,
        /** The socket closed without Terminate: the program (or its process) abandoned it. */
        ABANDONED,
        /** Still open when the command returned. */
        STILL_OPEN,
        /** Sluice closed it (a timeout or limit); the reason says which. */
        CLOSED_BY_SLUICE
    }

    private final long id;
    private final String user;
    private final String database;
    private final String address;
    private final int clientPort;
    private final long openedNanos;
    private String applicationName;
    private String program;
    private long pid;
    private long statements;
    private byte txnStatus = 'I';
    /** The first client message since the last ReadyForQuery: the start of the request (or transaction). */
    private long requestStartNanos;
    private long txnStartNanos;
    private long idleInTxnSinceNanos;
    private long longestTxnNanos;
    private long longestIdleInTxnNanos;
    private long closedNanos;
    private String closeReason;
    private Ending ending;
    private boolean endedInTransaction;

    ConnectionRecord(long id, String user, String database, String applicationName, String address, int clientPort,
                     long openedNanos) {
        this.id = id;
        this.user = user;
        this.database = database;
        this.applicationName = applicationName;
        this.address = address;
        this.clientPort = clientPort;
        this.openedNanos = openedNanos;
    }

    synchronized void onMessage(byte type, long now) {
        if (type == 'Q' || type == 'E' || type == 'F') { // Query, Execute, FunctionCall
            statements++;
        }
        if (type == 'X') { // Terminate: not the start of a request
            return;
        }
        if (requestStartNanos == 0) {
            requestStartNanos = now;
        }
        if (idleInTxnSinceNanos != 0) {
            longestIdleInTxnNanos = Math.max(longestIdleInTxnNanos, now - idleInTxnSinceNanos);
            idleInTxnSinceNanos = 0;
        }
    }

    synchronized void onReadyForQuery(byte status, long now) {
        boolean inTxn = status != 'I';
        if (inTxn && txnStatus == 'I') {
            txnStartNanos = requestStartNanos != 0 ? requestStartNanos : now;
        }
        if (!inTxn && txnStatus != 'I' && txnStartNanos != 0) {
            longestTxnNanos = Math.max(longestTxnNanos, now - txnStartNanos);
            txnStartNanos = 0;
        }
        if (inTxn) {
            idleInTxnSinceNanos = now;
        }
        txnStatus = status;
        requestStartNanos = 0;
    }

    synchronized void onClosed(String reason, Ending ending, long now) {
        if (closedNanos != 0) {
            return;
        }
        closedNanos = now;
        closeReason = reason;
        this.ending = ending;
        endOpenTransaction(now);
    }

    /** The command returned and this connection is still open. */
    synchronized void onStillOpen(long now) {
        if (closedNanos == 0 && ending == null) {
            ending = Ending.STILL_OPEN;
            endOpenTransaction(now);
        }
    }

    private void endOpenTransaction(long now) {
        if (txnStatus != 'I') {
            endedInTransaction = true;
            if (txnStartNanos != 0) {
                longestTxnNanos = Math.max(longestTxnNanos, now - txnStartNanos);
            }
            if (idleInTxnSinceNanos != 0) {
                longestIdleInTxnNanos = Math.max(longestIdleInTxnNanos, now - idleInTxnSinceNanos);
                idleInTxnSinceNanos = 0;
            }
        }
    }

    synchronized void setApplicationName(String name) {
        if (name != null && !name.isEmpty()) {
            applicationName = name;
        }
    }

    synchronized void setOwner(long pid, String program) {
        this.pid = pid;
        this.program = program;
    }

    public long id() {
        return id;
    }

    public String user() {
        return user;
    }

    public String database() {
        return database;
    }

    public String address() {
        return address;
    }

    public int clientPort() {
        return clientPort;
    }

    public long openedNanos() {
        return openedNanos;
    }

    public synchronized long closedNanos() {
        return closedNanos;
    }

    public synchronized String applicationName() {
        return applicationName;
    }

    /** The program that owned the socket ("psql", "java", ...), or null when it could not be found. */
    public synchronized String program() {
        return program;
    }

    public synchronized long pid() {
        return pid;
    }

    /** Who the report groups this connection under: the program when known, else the client address. */
    public synchronized String client() {
        return program != null ? program : address;
    }

    public synchronized long statements() {
        return statements;
    }

    public synchronized double longestTxnSeconds() {
        return longestTxnNanos / 1e9;
    }

    public synchronized double longestIdleInTxnSeconds() {
        return longestIdleInTxnNanos / 1e9;
    }

    public synchronized Ending ending() {
        return ending;
    }

    public synchronized String closeReason() {
        return closeReason;
    }

    public synchronized boolean endedInTransaction() {
        return endedInTransaction;
    }

    /** Leaked: the program never closed it (still open at the end, or abandoned without Terminate). */
    public synchronized boolean leaked() {
        return ending == Ending.STILL_OPEN || ending == Ending.ABANDONED;
    }

    public synchronized double lifetimeSeconds(long nowNanos) {
        return TimeUnit.NANOSECONDS.toMillis((closedNanos != 0 ? closedNanos : nowNanos) - openedNanos) / 1000.0;
    }
}
