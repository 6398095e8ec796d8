package dev.sluice.pool;

import java.util.concurrent.atomic.LongAdder;

/**
 * Running totals for one pool, as PgBouncer's SHOW STATS reports them per database: transactions, queries,
 * bytes each way, time in transactions and queries, time clients waited for a server, server assignments
 * and closes. Written from every event loop (LongAdder: no shared cache line on the hot path), read by the
 * admin console. Times are kept in nanoseconds and shown in microseconds.
 */
public final class PoolStats {
    private final LongAdder xactCount = new LongAdder();
    private final LongAdder queryCount = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder sent = new LongAdder();
    private final LongAdder xactNanos = new LongAdder();
    private final LongAdder queryNanos = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder assignments = new LongAdder();
    private final LongAdder serversClosed = new LongAdder();
    private final LongAdder serverLifetimeNanos = new LongAdder();

    /** A client finished a transaction (ReadyForQuery 'I'): what it did since the previous one. */
    public void transaction(long queries, long xactTimeNanos, long queryTimeNanos, long bytesReceived, long bytesSent) {
        xactCount.increment();
        queryCount.add(queries);
        xactNanos.add(xactTimeNanos);
        queryNanos.add(queryTimeNanos);
        received.add(bytesReceived);
        sent.add(bytesSent);
    }

    /** A server was assigned to a client that waited {@code waitedNanos} for it (0 when one was idle). */
    public void assigned(long waitedNanos) {
        assignments.increment();
        if (waitedNanos > 0) {
            waitNanos.add(waitedNanos);
        }
    }

    /** A server connection of this pool closed after living {@code lifetimeNanos}. */
    public void serverClosed(long lifetimeNanos) {
        serversClosed.increment();
        serverLifetimeNanos.add(lifetimeNanos);
    }

    /** The totals at this moment. */
    public Totals totals() {
        return new Totals(xactCount.sum(), queryCount.sum(), assignments.sum(), serversClosed.sum(), received.sum(),
                sent.sum(), xactNanos.sum() / 1000, queryNanos.sum() / 1000, waitNanos.sum() / 1000,
                serverLifetimeNanos.sum() / 1000);
    }

    /** A consistent-enough copy of the counters (each one exact, taken one after the other); times in µs. */
    public record Totals(long xactCount, long queryCount, long serverAssignmentCount, long serverClosedCount,
                         long received, long sent, long xactTimeUs, long queryTimeUs, long waitTimeUs,
                         long serverLifetimeUs) {
        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        public Totals plus(Totals o) {
            return new Totals(xactCount + o.xactCount, queryCount + o.queryCount,
                    serverAssignmentCount + o.serverAssignmentCount, serverClosedCount + o.serverClosedCount,
                    received + o.received, sent + o.sent, xactTimeUs + o.xactTimeUs, queryTimeUs + o.queryTimeUs,
                    waitTimeUs + o.waitTimeUs, serverLifetimeUs + o.serverLifetimeUs);
        }

        public Totals minus(Totals o) {
            return new Totals(xactCount - o.xactCount, queryCount - o.queryCount,
                    serverAssignmentCount - o.serverAssignmentCount, serverClosedCount - o.serverClosedCount,
                    received - o.received, sent - o.sent, xactTimeUs - o.xactTimeUs, queryTimeUs - o.queryTimeUs,
                    waitTimeUs - o.waitTimeUs, serverLifetimeUs - o.serverLifetimeUs);
        }
    }
}
