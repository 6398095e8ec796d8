package dev.sluice.observe;

import dev.sluice.guard.Workload;
import dev.sluice.pool.Pool;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

// Latency distributions and failed logins, observed as they happen (the counts are the pools' own).
/**
 * Fed by {@link ClientMetrics} from every event loop. Label children are looked up once per (pool,
 * workload) and cached by the caller, so the hot path is a few adder increments per transaction.
 * Histograms are classic (fixed buckets) so the text format carries them and alert rules can use
 * histogram_quantile; their _count is also the number of transactions (queries, waits) per workload.
 */
public final class TrafficMetrics {

    /** Transactions and queries run from a millisecond to minutes: buckets from 0.5 ms to 60 s. */
    static final double[] DURATION_BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
            2.5, 5, 10, 30, 60};
    /** Waits for a server: usually zero, then up to query_wait_timeout (120 s by default). */
    static final double[] WAIT_BUCKETS = {0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120};

    /** Failed client logins kept for attribution (who failed) and the per-minute count. */
    private static final int AUTH_FAILURES_KEPT = 1000;

    /** One client's login that failed authentication. */
    public record AuthFailure(long atMillis, String user, String database, String address) {}

    /** The label children of one (database, workload), cached by each client session. */
    static final class Series {
        final DistributionDataPoint transactionSeconds;
        final DistributionDataPoint querySeconds;

        private Series(TrafficMetrics m, String database, String workload) {
            transactionSeconds = m.transactionDuration.labelValues(database, workload);
            querySeconds = m.queryDuration.labelValues(database, workload);
        }
    }

    private record SeriesKey(String database, String workload) {}

    private final Histogram transactionDuration;
    private final Histogram queryDuration;
    private final Histogram waitDuration;
    private final Counter authFailures;
    private final Counter pins;
    private final ConcurrentHashMap<SeriesKey, Series> series = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DistributionDataPoint> waits = new ConcurrentHashMap<>();
    private final ArrayDeque<AuthFailure> recentAuthFailures = new ArrayDeque<>();

    public TrafficMetrics(PrometheusRegistry registry) {
        transactionDuration = Histogram.builder().name("sluice_transaction_duration_seconds")
                .help("Time from a transaction's first query to its end (ReadyForQuery idle)")
                .labelNames("database", "workload").classicOnly().classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars().register(registry);
        queryDuration = Histogram.builder().name("sluice_query_duration_seconds")
                .help("Time from sending a query (or Sync) to the server to its ReadyForQuery")
                .labelNames("database", "workload").classicOnly().classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars().register(registry);
        waitDuration = Histogram.builder().name("sluice_workload_wait_seconds")
                .help("Time a client waited for a server connection, ending in a lease or a refusal")
                .labelNames("workload").classicOnly().classicUpperBounds(WAIT_BUCKETS)
                .withoutExemplars().register(registry);
        authFailures = Counter.builder().name("sluice_client_auth_failures_total")
                .help("Client logins that failed authentication (no labels: user names of failed logins are "
                        + "attacker-controlled; see the SluiceAuthFailures alert for who)")
                .withoutExemplars().register(registry);
        pins = Counter.builder().name("sluice_client_pins_total")
                .help("Clients pinned to their server until they disconnect (pin_on_session_state), by database and "
                        + "the session state that pinned them (listen, temp_table, advisory_lock, ...)")
                .labelNames("database", "reason").withoutExemplars().register(registry);
    }

    void pinned(String database, String reason) {
        pins.labelValues(database, reason).inc();
    }

    Series series(Pool pool, Workload workload) {
        String database = pool == null ? "" : pool.key().database();
        String wl = workload == null ? "" : workload.name();
        return series.computeIfAbsent(new SeriesKey(database, wl), k -> new Series(this, k.database(), k.workload()));
    }

    DistributionDataPoint waitSeries(Workload workload) {
        String name = workload == null ? "" : workload.name();
        DistributionDataPoint p = waits.get(name); // get first: computeIfAbsent's method reference is an object per call
        return p != null ? p : waits.computeIfAbsent(name, waitDuration::labelValues);
    }

    void authFailed(String user, String database, SocketAddress address) {
        authFailures.inc();
        String addr = address instanceof InetSocketAddress i && i.getAddress() != null
                ? i.getAddress().getHostAddress() : String.valueOf(address);
        AuthFailure f = new AuthFailure(System.currentTimeMillis(), user == null ? "" : user,
                database == null ? "" : database, addr);
        synchronized (recentAuthFailures) {
            recentAuthFailures.addLast(f);
            while (recentAuthFailures.size() > AUTH_FAILURES_KEPT) {
                recentAuthFailures.pollFirst();
            }
        }
    }

    /** Failed logins since {@code sinceMillis}, oldest first (at most the last 1000). */
    public List<AuthFailure> authFailuresSince(long sinceMillis) {
        List<AuthFailure> out = new ArrayList<>();
        synchronized (recentAuthFailures) {
            for (AuthFailure f : recentAuthFailures) {
                if (f.atMillis() >= sinceMillis) {
                    out.add(f);
                }
            }
        }
        return out;
    }
}
