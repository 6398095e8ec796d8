package dev.sluice.pool;

import java.util.Map;

// One pool's numbers at one instant, copied under the manager's lock for metrics, alerts and the dashboard.
/**
 * Read-only: taking it changes nothing. Counts are derived from the pool's collections at that instant.
 *
 * @param server           "host:port" of the PostgreSQL server
 * @param budgeted         the database uses max_db_connections = auto (the budget read from the server)
 * @param capacity         what the pool manager bounds the database by right now: the budget, else
 *                         max_db_connections, else the sum of its pools' sizes (and reserves)
 * @param closing          evicted servers whose close has not completed (they still take a slot)
 * @param oldestWaitNanos  how long the first waiting client has waited; 0 when none waits
 * @param leasedByWorkload leased servers by the workload of the client holding each
 */
public record PoolCounts(PoolKey key, String server, boolean budgeted, PoolSettings settings, int capacity, int idle,
        int active, int connecting, int closing, int waiting, long oldestWaitNanos, Map<String, Integer> leasedByWorkload) {

    public PoolCounts {
        leasedByWorkload = Map.copyOf(leasedByWorkload);
    }

    /** Every server connection that counts against limits (as the pool manager counts them). */
    public int servers() {
        return idle + active + connecting + closing;
    }
}
