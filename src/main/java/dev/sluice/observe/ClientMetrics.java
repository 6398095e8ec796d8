package dev.sluice.observe;

import dev.sluice.guard.Workload;
import dev.sluice.pool.Pool;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.net.SocketAddress;

// One client connection's share of the traffic metrics: the few numbers it keeps between protocol events.
/**
 * Called by {@code ClientSession} on its own event loop only (no locks); {@link #holdingSinceNanos()} is
 * read from the observer thread. A transaction runs from the first query sent after the client was idle
 * to the ReadyForQuery that says idle again; a query from sending Query (or Sync) to its ReadyForQuery.
 * Bytes and query counts are added to the shared counters at each ReadyForQuery, not per message.
 * {@link #OFF} (stats_listen off) does nothing and keeps no state, so one shared instance serves all.
 */
public final class ClientMetrics {

    /** Counts nothing: stats_listen is off, or the proxy has no observer (tests of the core alone). */
    public static final ClientMetrics OFF = new ClientMetrics(null);

    private final TrafficMetrics traffic;
    private TrafficMetrics.Series series;
    private Pool seriesPool;
    private Workload seriesWorkload;
    private long queryStartNanos;
    private long transactionStartNanos;
    private long waitStartNanos;
    private volatile long holdingSinceNanos;
    private long queries;
    private long received;
    private long sent;

    ClientMetrics(TrafficMetrics traffic) {
        this.traffic = traffic;
    }

    /** A protocol message from the client (after login). */
    public void received(int bytes) {
        if (traffic != null) {
            received += bytes;
        }
    }

    /** A server reply message forwarded to the client. */
    public void sent(int bytes) {
        if (traffic != null) {
            sent += bytes;
        }
    }

    /** A Query, FunctionCall or Sync went to the server with nothing else outstanding. */
    public void queryStarted(long nanos) {
        if (traffic == null) {
            return;
        }
        queryStartNanos = nanos;
        if (transactionStartNanos == 0) {
            transactionStartNanos = nanos;
        }
    }

    /** ReadyForQuery from the server; {@code status} 'I' ends the transaction. */
    public void readyForQuery(byte status, Pool pool, Workload workload) {
        if (traffic == null) {
            return;
        }
        long now = System.nanoTime();
        TrafficMetrics.Series s = series(pool, workload);
        queries++;
        if (queryStartNanos != 0) {
            s.querySeconds.observe((now - queryStartNanos) / 1e9); // pipelined queries: the batch, once
            queryStartNanos = 0;
        }
        long tx = 0;
        if (status == 'I' && transactionStartNanos != 0) {
            s.transactionSeconds.observe((now - transactionStartNanos) / 1e9);
            s.transactions.inc();
            transactionStartNanos = 0;
            tx = 1;
        }
        s.queries.inc(queries);
        if (received > 0) {
            s.received.inc(received);
        }
        if (sent > 0) {
            s.sent.inc(sent);
        }
        traffic.counted(tx, queries);
        queries = 0;
        received = 0;
        sent = 0;
    }

    /** The client asked its pool for a server. */
    public void waitStarted() {
        if (traffic != null) {
            waitStartNanos = System.nanoTime();
        }
    }

    /** The wait ended with a server leased to the client. */
    public void leased(Workload workload) {
        if (traffic == null) {
            return;
        }
        long now = System.nanoTime();
        holdingSinceNanos = now;
        waitEnded(workload, now);
    }

    /** The wait ended without a server (queue timeout, PostgreSQL unavailable). */
    public void waitFailed(Workload workload) {
        if (traffic != null) {
            waitEnded(workload, System.nanoTime());
        }
    }

    /** The client failed authentication. */
    public void authFailed(String user, String database, SocketAddress address) {
        if (traffic != null) {
            traffic.authFailed(user, database, address);
        }
    }

    /** When the client's current (or last) server lease began; 0 when it never held one. */
    public long holdingSinceNanos() {
        return holdingSinceNanos;
    }

    private void waitEnded(Workload workload, long now) {
        if (waitStartNanos != 0) {
            DistributionDataPoint h = traffic.waitSeries(workload);
            h.observe((now - waitStartNanos) / 1e9);
            waitStartNanos = 0;
        }
    }

    private TrafficMetrics.Series series(Pool pool, Workload workload) {
        if (series == null || pool != seriesPool || workload != seriesWorkload) {
            series = traffic.series(pool, workload);
            seriesPool = pool;
            seriesWorkload = workload;
        }
        return series;
    }
}
