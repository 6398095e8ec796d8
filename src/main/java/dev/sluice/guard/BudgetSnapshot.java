package dev.sluice.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

// What the budget monitor last learned about one server: capacity, who bypasses Sluice, and whether it is current.
/**
 * Immutable; a new one is published after every check. When a check fails, the last good reading
 * (capacity, bypass groups, takenAt) is kept and only the error fields change, so a caller can choose to
 * trust a reading that is a few seconds old and see exactly how old it is.
 *
 * @param server            "host:port"
 * @param capacity          null until the first successful reading
 * @param bypass            largest group first; empty when nobody bypasses Sluice (or nothing is known yet)
 * @param sluiceConnections Sluice's own server connections seen in pg_stat_activity at that reading
 * @param seesAllSessions   the monitor's login can see other roles' session details (superuser or
 *                          pg_read_all_stats); when false, other roles' bypassing sessions are in hidden groups
 * @param serverVersion     e.g. "17.6", null until connected
 * @param takenAt           when capacity and bypass were read; null until the first successful reading
 * @param lastError         why the latest check failed; null when it succeeded
 * @param lastErrorAt       when the latest check failed; null when it succeeded
 */
public record BudgetSnapshot(String server, ServerCapacity capacity, List<BypassGroup> bypass, int sluiceConnections,
        boolean seesAllSessions, String serverVersion, Instant takenAt, String lastError, Instant lastErrorAt) {

    public BudgetSnapshot {
        bypass = List.copyOf(bypass);
    }

    /** Nothing read yet. */
    static BudgetSnapshot initial(String server) {
        return new BudgetSnapshot(server, null, List.of(), 0, false, null, null, null, null);
    }

    /** True once a reading has succeeded (it may be stale: see {@link #isStale()}). */
    public boolean isKnown() {
        return capacity != null;
    }

    /** True when the latest check failed; capacity and bypass are then from {@link #takenAt()}. */
    public boolean isStale() {
        return lastError != null;
    }

    /** The budget, or empty while nothing has been read. */
    public OptionalInt budget() {
        return capacity == null ? OptionalInt.empty() : OptionalInt.of(capacity.budget());
    }

    /** Bypassing connections in total (the sum of the groups). */
    public int bypassing() {
        return capacity == null ? 0 : capacity.bypassing();
    }

    /**
     * How many of {@code inUse} server connections are over the budget: the number Sluice should close
     * (idle ones first) and not replace. 0 when within budget or when nothing is known.
     */
    public int excess(int inUse) {
        return capacity == null ? 0 : Math.max(0, inUse - capacity.budget());
    }

    /** How old the reading is at {@code now}; empty while nothing has been read. */
    public Duration age(Instant now) {
        return takenAt == null ? null : Duration.between(takenAt, now);
    }

    /** One line for logs and the console: the budget, its age when stale, and the last error. */
    public String describe(Instant now) {
        StringBuilder out = new StringBuilder(server).append(": ");
        if (capacity == null) {
            out.append("budget unknown");
        } else {
            out.append(capacity.explain());
        }
        if (lastError != null) {
            out.append(capacity == null ? " (no reading yet)" : " (stale: read " + seconds(age(now)) + " ago)")
               .append("; last check failed ").append(seconds(Duration.between(lastErrorAt, now)))
               .append(" ago: ").append(lastError);
        }
        return out.toString();
    }

    static String seconds(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s + "s";
    }
}
