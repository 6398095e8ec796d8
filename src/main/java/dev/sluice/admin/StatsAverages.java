package dev.sluice.admin;

import dev.sluice.pool.PoolSnapshot;
import dev.sluice.pool.PoolStats.Totals;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The avg_* figures of SHOW STATS: per database, recomputed every stats_period from the change in the
 * totals, as PgBouncer does. Rates are per second; times are per transaction, query or assignment (µs).
 */
public final class StatsAverages {

    /** One database's averages over the last full period. */
    public record Averages(long xactCount, long queryCount, long serverAssignmentCount, long recv, long sent,
                           long xactTime, long queryTime, long waitTime, long serverLifetime) {
        public static final Averages ZERO = new Averages(0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    private Map<String, Totals> previous = Map.of();
    private long previousNanos;
    private volatile Map<String, Averages> current = Map.of();

    /** Totals per database name, summed over the database's pools (one per user). */
    public static Map<String, Totals> totalsByDatabase(List<PoolSnapshot> pools) {
        Map<String, Totals> byDb = new TreeMap<>();
        for (PoolSnapshot p : pools) {
            byDb.merge(p.key().database(), p.pool().stats().totals(), Totals::plus);
        }
        return byDb;
    }

    /**
     * Called about once a second (one thread at a time); recomputes when {@code period} has passed since the
     * last computation. {@code totals} is only asked for then.
     */
    public synchronized void tick(long nowNanos, Duration period, java.util.function.Supplier<Map<String, Totals>> totals) {
        if (previousNanos != 0 && nowNanos - previousNanos < period.toNanos()) {
            return;
        }
        Map<String, Totals> now = totals.get();
        if (previousNanos != 0) {
            double seconds = (nowNanos - previousNanos) / 1e9;
            Map<String, Averages> next = new TreeMap<>();
            for (Map.Entry<String, Totals> e : now.entrySet()) {
                Totals d = e.getValue().minus(previous.getOrDefault(e.getKey(), Totals.ZERO));
                next.put(e.getKey(), new Averages(
                        perSecond(d.xactCount(), seconds), perSecond(d.queryCount(), seconds),
                        perSecond(d.serverAssignmentCount(), seconds), perSecond(d.received(), seconds),
                        perSecond(d.sent(), seconds), per(d.xactTimeUs(), d.xactCount()),
                        per(d.queryTimeUs(), d.queryCount()), per(d.waitTimeUs(), d.serverAssignmentCount()),
                        per(d.serverLifetimeUs(), d.serverClosedCount())));
            }
            current = next;
        }
        previous = now;
        previousNanos = nowNanos;
    }

    public Averages of(String database) {
        return current.getOrDefault(database, Averages.ZERO);
    }

    private static long perSecond(long delta, double seconds) {
        return seconds <= 0 ? 0 : Math.round(delta / seconds);
    }

    private static long per(long total, long count) {
        return count <= 0 ? 0 : total / count;
    }
}
