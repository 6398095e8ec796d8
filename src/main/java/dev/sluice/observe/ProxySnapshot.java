package dev.sluice.observe;

import dev.sluice.guard.BypassGroup;
import dev.sluice.guard.LeakDetector;
import dev.sluice.guard.ServerCapacity;
import dev.sluice.pool.PoolCounts;
import dev.sluice.pool.PoolKey;
import dev.sluice.pool.PoolStats;
import java.time.Instant;
import java.util.List;
import java.util.Map;

// Everything the metrics, the alert rules and the dashboard need, read from the proxy at one instant.
/**
 * Immutable plain data, so alert rules can be tested with snapshots made by hand.
 *
 * @param clients      client connections by (database, user, workload, state)
 * @param topHolders   the clients holding a server connection longest, longest first (at most 10)
 * @param traffic      each pool's running totals (SHOW STATS): transactions, queries, bytes, times
 * @param recentAuthFailures failed client logins of the last minute (empty when stats_listen is off)
 */
public record ProxySnapshot(Instant at, List<PoolCounts> pools, Map<PoolKey, PoolStats.Totals> traffic,
        List<Budget> budgets, List<WorkloadView> workloads, List<ClientGroup> clients, List<Holder> topHolders,
        List<LeakDetector.Suspect> suspects, List<PostgresProbe.Result> probes, int clientCount, int maxClientConn,
        List<TrafficMetrics.AuthFailure> recentAuthFailures) {

    public ProxySnapshot {
        pools = List.copyOf(pools);
        traffic = Map.copyOf(traffic);
        budgets = List.copyOf(budgets);
        workloads = List.copyOf(workloads);
        clients = List.copyOf(clients);
        topHolders = List.copyOf(topHolders);
        suspects = List.copyOf(suspects);
        probes = List.copyOf(probes);
        recentAuthFailures = List.copyOf(recentAuthFailures);
    }

    /**
     * Server connections Sluice holds against one limit. With max_db_connections = auto the limit is the
     * budget read from PostgreSQL for the whole server (database ""); otherwise it is the database's
     * max_db_connections, or the sum of its pools' sizes when that is not set.
     *
     * @param source     "auto", "max_db_connections" or "pool_size"
     * @param budget     the limit; -1 while an auto budget has not been read yet
     * @param capacity   how an auto budget was reached (null otherwise, or before the first reading)
     * @param stale      the budget monitor's latest check failed (the budget is from an older reading)
     * @param leased     leased servers by workload
     * @param heldByApp  leased servers by the application_name of the client holding each
     */
    public record Budget(String server, String database, String source, int used, int budget, int idle,
            ServerCapacity capacity, List<BypassGroup> bypass, boolean stale, String lastError,
            Map<String, Integer> leased, Map<String, Integer> heldByApp) {

        public Budget {
            bypass = List.copyOf(bypass);
            leased = ordered(leased);
            heldByApp = ordered(heldByApp);
        }

        /** True once the limit is known. */
        public boolean known() {
            return budget >= 0;
        }

        /** Share of the limit in use; a budget of 0 counts as full (nothing more can be opened). */
        public double ratio() {
            if (budget < 0) {
                return 0;
            }
            return budget == 0 ? 1.0 : (double) used / budget;
        }

        /** "127.0.0.1:5432" for a server budget, "database appdb" for a per-database limit. */
        public String target() {
            return database.isEmpty() ? server : "database " + database;
        }

        public int bypassing() {
            return capacity == null ? 0 : capacity.bypassing();
        }
    }

    /**
     * One workload: its limits, what it holds and waits for, its breaker and refusal counters.
     *
     * @param maxClients 0 = no limit; likewise max
     * @param queued     clients of the workload waiting for a server now (the guard's own count, as max_queue)
     * @param clientsByApp client connections by application_name (largest first, at most 5)
     * @param heldByApp  leased servers by application_name (largest first, at most 5)
     */
    public record WorkloadView(String name, int clients, int maxClients, int leased, int max, int reserve, int queued,
            String breakerState, long refusedMaxClients, long refusedMaxQueue, long refusedQueueTimeout,
            long shedByBreaker, Map<String, Integer> clientsByApp, Map<String, Integer> heldByApp) {

        public WorkloadView {
            clientsByApp = ordered(clientsByApp);
            heldByApp = ordered(heldByApp);
        }

        /** Every refusal so far: max_clients, max_queue, queue timeouts, breaker sheds. */
        public long refused() {
            return refusedMaxClients + refusedMaxQueue + refusedQueueTimeout + shedByBreaker;
        }
    }

    /** Transactions completed through every pool since start. */
    public long transactions() {
        return traffic.values().stream().mapToLong(PoolStats.Totals::xactCount).sum();
    }

    /** Queries completed through every pool since start. */
    public long queries() {
        return traffic.values().stream().mapToLong(PoolStats.Totals::queryCount).sum();
    }

    /** A read-only copy that keeps the order (largest first, as the snapshotter sorts them). */
    static Map<String, Integer> ordered(Map<String, Integer> m) {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(m));
    }

    /** How many client connections are in one state ("login", "waiting", "active", "idle"). */
    public record ClientGroup(String database, String user, String workload, String state, int count) {}

    /** A client holding a server connection, and for how long. */
    public record Holder(String applicationName, String user, String database, String workload, String address,
            double holdingSeconds, String state) {}
}
