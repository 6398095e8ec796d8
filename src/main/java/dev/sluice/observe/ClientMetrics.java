package dev.sluice.observe;

import dev.sluice.guard.Workload;
import dev.sluice.pool.Pool;
import java.net.SocketAddress;

// One client connection's hook into the latency histograms: called where ClientSession already measures.
/**
 * The counts (transactions, queries, bytes) are the pools' own SHOW STATS counters, exported as they are;
 * this adds only what a sum cannot give: distributions (histograms) by workload, and since when the client
 * holds its server. Called on the client's event loop; {@link #holdingSinceNanos()} is read from the
 * observer thread. The series of a (pool, workload) is looked up once and cached, so a call is a few
 * adder increments. {@link #OFF} (stats_listen off) does nothing and keeps no state.
 */
public final class ClientMetrics {

    /** Observes nothing: stats_listen is off, or the proxy has no observer (tests of the core alone). */
    public static final ClientMetrics OFF = new ClientMetrics(null);

    private final TrafficMetrics traffic;
    private TrafficMetrics.Series series;
    private Pool seriesPool;
    private Workload seriesWorkload;
    private volatile long holdingSinceNanos;

    ClientMetrics(TrafficMetrics traffic) {
        this.traffic = traffic;
    }

    /** A transaction ended (ReadyForQuery idle) after {@code nanos} from its first query. */
    public void transactionEnded(long nanos, Pool pool, Workload workload) {
        if (traffic != null) {
            series(pool, workload).transactionSeconds.observe(nanos / 1e9);
        }
    }

    /** A query (or a pipelined batch) got its ReadyForQuery {@code nanos} after it was sent. */
    public void queryEnded(long nanos, Pool pool, Workload workload) {
        if (traffic != null) {
            series(pool, workload).querySeconds.observe(nanos / 1e9);
        }
    }

    /** A server was leased to the client after waiting {@code waitedNanos} (0: one was idle). */
    public void leased(Workload workload, long waitedNanos) {
        if (traffic != null) {
            holdingSinceNanos = System.nanoTime();
            traffic.waitSeries(workload).observe(waitedNanos / 1e9);
        }
    }

    /** The wait for a server ended without one (queue timeout) after {@code waitedNanos}. */
    public void waitEnded(Workload workload, long waitedNanos) {
        if (traffic != null) {
            traffic.waitSeries(workload).observe(waitedNanos / 1e9);
        }
    }

    /** The client failed authentication. */
    public void authFailed(String user, String database, SocketAddress address) {
        if (traffic != null) {
            traffic.authFailed(user, database, address);
        }
    }

    /** pin_on_session_state pinned the client to its server because of {@code reason}. */
    public void pinned(Pool pool, String reason) {
        if (traffic != null) {
            traffic.pinned(pool == null ? "" : pool.key().database(), reason);
        }
    }

    /** When the client's current (or last) server lease began; 0 when it never held one. */
    public long holdingSinceNanos() {
        return holdingSinceNanos;
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
