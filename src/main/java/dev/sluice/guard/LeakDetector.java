package dev.sluice.guard;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names the source of leaked client connections. Clients are grouped by source (workload,
 * application_name, user, client address); once a second the number of connections of each source that
 * sit idle longer than {@code idleAge} is sampled. A source whose idle count is at least
 * {@code minConnections} and has only grown, in several separate steps, over the window is a leak
 * suspect: that is the shape of a job that opens a connection per task and never closes it, and not the
 * shape of a pool, whose idle count rises once at start-up and then stays flat.
 */
public final class LeakDetector {
    private static final Logger log = LoggerFactory.getLogger(LeakDetector.class);

    /** Where client connections come from. */
    public record Source(String workload, String applicationName, String user, String address) {
        @Override
        public String toString() {
            return "workload=" + workload + " app=" + (applicationName.isEmpty() ? "(none)" : applicationName)
                    + " user=" + user + " addr=" + address;
        }
    }

    /** One client connection as the detector sees it. */
    public record ClientView(Source source, boolean idle, long idleNanos, java.util.function.Supplier<String> statement) {
        /** A view whose last statement is already text (tests, callers that have it at hand). */
        public ClientView(Source source, boolean idle, long idleNanos, String lastStatement) {
            this(source, idle, idleNanos, lastStatement == null ? null : () -> lastStatement);
        }

        /**
         * The client's last statement, or null. Computed on demand: every client is sampled every second,
         * but only the statement of a suspect group is ever shown.
         */
        public String lastStatement() {
            return statement == null ? null : statement.get();
        }
    }

    /** A source that looks like it leaks. */
    public record Suspect(Source source, int idleConnections, int openConnections, long oldestIdleSeconds,
                          int growthInWindow, String lastStatement, long suspectSinceMillis) {
        public String describe() {
            return source + ": " + idleConnections + " idle connections of " + openConnections + " open (oldest idle "
                    + oldestIdleSeconds + "s, +" + growthInWindow + " in the window), last statement: "
                    + (lastStatement == null ? "(none)" : "\"" + lastStatement + "\"");
        }
    }

    /** Separate rises within the window that make a trend rather than a pool starting up. */
    private static final int MIN_RISES = 3;

    private final long idleAgeNanos;
    private final int minConnections;
    private final int windowSamples;
    private final Map<Source, ArrayDeque<Integer>> history = new HashMap<>();
    private final Map<Source, Long> suspectSince = new HashMap<>();
    /** Sources refused at their workload's max_clients, with when: a source that ran into its own wall. */
    private final java.util.concurrent.ConcurrentHashMap<Source, Long> refusedAt = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile List<Suspect> suspects = List.of();

    public LeakDetector(Duration idleAge, int minConnections, Duration window) {
        this.idleAgeNanos = idleAge.toNanos();
        this.minConnections = Math.max(1, minConnections);
        this.windowSamples = (int) Math.max(3, window.toSeconds());
    }

    /**
     * A client of {@code source} was refused at its workload's max_clients: if the source also holds idle
     * connections, that is a leak hitting its wall, named at the next sample without waiting for a trend.
     */
    public void noteRefused(Source source, long nowMillis) {
        refusedAt.put(source, nowMillis);
    }

    /** Takes one sample (call about once a second) and updates the suspects. */
    public synchronized void sample(Collection<ClientView> clients, long nowMillis) {
        Map<Source, int[]> counts = new HashMap<>(); // [idle, open]
        Map<Source, Long> oldest = new HashMap<>();
        Map<Source, String> lastStatement = new HashMap<>();
        for (ClientView c : clients) {
            int[] n = counts.computeIfAbsent(c.source(), k -> new int[2]);
            n[1]++;
            if (c.idle() && c.idleNanos() >= idleAgeNanos) {
                n[0]++;
                oldest.merge(c.source(), c.idleNanos(), Math::max);
                if (!lastStatement.containsKey(c.source())) {
                    String st = c.lastStatement();
                    if (st != null) {
                        lastStatement.put(c.source(), st);
                    }
                }
            }
        }
        Set<Source> gone = new HashSet<>(history.keySet());
        gone.removeAll(counts.keySet());
        gone.forEach(history::remove);
        List<Suspect> found = new ArrayList<>();
        for (Map.Entry<Source, int[]> e : counts.entrySet()) {
            Source src = e.getKey();
            int idle = e.getValue()[0];
            ArrayDeque<Integer> h = history.computeIfAbsent(src, k -> new ArrayDeque<>());
            h.addLast(idle);
            while (h.size() > windowSamples) {
                h.pollFirst();
            }
            int growth = idle - h.peekFirst();
            boolean neverShrank = true;
            int rises = 0;
            Integer prev = null;
            for (Integer x : h) {
                if (prev != null && x < prev) {
                    neverShrank = false;
                    break;
                }
                if (prev != null && x > prev) {
                    rises++;
                }
                prev = x;
            }
            // A pool opening its connections at once rises in one step; a leak keeps rising, step after step.
            // Once a suspect, a source stays one while it keeps at least minConnections idle: connections that
            // Sluice itself closes (idle_transaction_timeout) must not clear the culprit's name.
            Long refused = refusedAt.get(src);
            boolean hitItsWall = refused != null && nowMillis - refused <= windowSamples * 1000L;
            boolean suspect = idle >= minConnections
                    && ((neverShrank && rises >= MIN_RISES) || hitItsWall || suspectSince.containsKey(src));
            if (suspect) {
                long since = suspectSince.computeIfAbsent(src, k -> {
                    log.warn("leak suspect: {}: {} idle connections (+{} in {}s), last statement: {}", src, idle, growth,
                            h.size(), lastStatement.getOrDefault(src, "(none)"));
                    return nowMillis;
                });
                found.add(new Suspect(src, idle, e.getValue()[1], oldest.getOrDefault(src, 0L) / 1_000_000_000L,
                        growth, lastStatement.get(src), since));
            } else if (suspectSince.remove(src) != null) {
                log.info("leak suspect cleared: {}: {} idle connections", src, idle);
            }
        }
        suspectSince.keySet().retainAll(counts.keySet());
        refusedAt.entrySet().removeIf(e -> nowMillis - e.getValue() > windowSamples * 1000L);
        found.sort(Comparator.comparingInt(Suspect::idleConnections).reversed());
        suspects = List.copyOf(found);
    }

    /** Current suspects, most idle connections first. */
    public List<Suspect> suspects() {
        return suspects;
    }
}
