package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import java.util.List;

/**
 * One pool as the admin console sees it, copied under the manager's lock: its servers by state (the
 * collection each is in), how many are being opened, how many clients wait and since when.
 *
 * @param oldestWaitNanos how long the first waiting client has waited, 0 when none waits
 */
public record PoolSnapshot(Pool pool, PoolKey key, PoolSettings settings, List<ServerConnection> idle,
                           List<ServerConnection> active, int connecting, int waiting, long oldestWaitNanos,
                           boolean paused) {
    public int serverCount() {
        return idle.size() + active.size() + connecting;
    }
}
