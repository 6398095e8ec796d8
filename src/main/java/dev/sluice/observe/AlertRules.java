package dev.sluice.observe;

import dev.sluice.config.AlertsConfig;
import dev.sluice.guard.BypassGroup;
import dev.sluice.guard.LeakDetector;
import dev.sluice.observe.Alert.Severity;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

// Sluice's built-in alert rules: what each one looks at in a snapshot, and whether it is over its line.
/**
 * Stateless about alerts (the engine keeps firing/pending state) but keeps one minute of refusal counts per
 * workload, for the shedding rule. Every condition comes in three levels: over the line (FIRE), clearly
 * back (CLEAR: below threshold x (1 - resolve_margin)), or in between (HOLD: a firing alert stays firing,
 * a pending one starts over), which is what keeps an alert from flapping at its threshold.
 */
final class AlertRules {

    enum Level { FIRE, HOLD, CLEAR }

    /** One rule's verdict about one instance (an alert name plus labels) at one evaluation. */
    record Condition(String name, Severity severity, Map<String, String> labels, Level level, Duration fireAfter,
            String summary, String culprit, Map<String, Number> values) {
        String key() {
            return Alert.key(name, labels);
        }
    }

    private static final long WINDOW_MILLIS = 60_000;

    /** Each alert's severity, fixed per name (alerting rules and routing depend on it). */
    static Severity severityOf(String alert) {
        return switch (alert) {
            case "SluiceBudgetCritical", "SluiceBreakerOpen", "SluicePostgresUnreachable" -> Severity.CRITICAL;
            default -> Severity.WARNING;
        };
    }

    private final AlertsConfig cfg;
    /** Per workload: (time, refusals so far) samples over the last minute. */
    private final Map<String, ArrayDeque<long[]>> refusals = new HashMap<>();

    AlertRules(AlertsConfig cfg) {
        this.cfg = cfg;
    }

    List<Condition> evaluate(ProxySnapshot s) {
        List<Condition> out = new ArrayList<>();
        budget(s, out);
        workloads(s, out);
        leaks(s, out);
        bypass(s, out);
        unreachable(s, out);
        authFailures(s, out);
        out.removeIf(c -> !cfg.enabled(c.name()));
        return out;
    }

    // ---- SluiceBudgetHigh, SluiceBudgetCritical ----

    private void budget(ProxySnapshot s, List<Condition> out) {
        for (ProxySnapshot.Budget b : s.budgets()) {
            if (!b.known()) {
                continue;
            }
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("server", b.server());
            if (!b.database().isEmpty()) {
                labels.put("database", b.database());
            }
            Map<String, Number> values = new LinkedHashMap<>();
            values.put("used", b.used());
            values.put("budget", b.budget());
            values.put("ratio", Math.round(b.ratio() * 1000) / 1000.0);
            values.put("idle", b.idle());
            if (b.capacity() != null) {
                values.put("max_connections", b.capacity().maxConnections());
                values.put("bypassing", b.bypassing());
            }
            String culprit = budgetCulprit(b);
            if (cfg.budgetWarn() >= 0) {
                out.add(new Condition("SluiceBudgetHigh", severityOf("SluiceBudgetHigh"), labels, atLeast(b.ratio(), cfg.budgetWarn()),
                        cfg.fireAfter(), budgetSummary(b, "warn", cfg.budgetWarn()), culprit, values));
            }
            if (cfg.budgetCritical() >= 0) {
                out.add(new Condition("SluiceBudgetCritical", severityOf("SluiceBudgetCritical"), labels,
                        atLeast(b.ratio(), cfg.budgetCritical()), cfg.fireAfter(),
                        budgetSummary(b, "critical", cfg.budgetCritical()), culprit, values));
            }
        }
    }

    private static String budgetSummary(ProxySnapshot.Budget b, String which, double threshold) {
        String pct = pct(b.ratio()) + "; " + which + " at " + pct(threshold);
        StringBuilder t = new StringBuilder();
        switch (b.source()) {
            case "auto" -> {
                t.append("Sluice holds ").append(b.used()).append(" of its budget of ").append(b.budget())
                        .append(" server connections on ").append(b.server()).append(" (").append(pct).append(")");
                if (b.capacity() != null) {
                    t.append("; ").append(b.capacity().explain());
                }
                if (b.stale()) {
                    t.append(" (stale reading: the last check failed: ").append(b.lastError()).append(')');
                }
            }
            case "max_db_connections" -> t.append("database ").append(b.database()).append(" on ").append(b.server())
                    .append(": ").append(b.used()).append(" of ").append(b.budget()).append(" server connections in use (")
                    .append(pct).append("); the limit here is max_db_connections = ").append(b.budget())
                    .append(", not what PostgreSQL has left: set max_db_connections = auto to measure against the server");
            default -> t.append("database ").append(b.database()).append(" on ").append(b.server()).append(": ")
                    .append(b.used()).append(" of ").append(b.budget()).append(" server connections in use (").append(pct)
                    .append("); the limit here is the sum of its pools' sizes (pool_size + reserve_pool), not what "
                            + "PostgreSQL has left: set max_db_connections = auto to measure against the server");
        }
        return t.toString();
    }

    private static String budgetCulprit(ProxySnapshot.Budget b) {
        StringJoiner j = new StringJoiner("; ");
        if (!b.leased().isEmpty()) {
            j.add("leased by workload " + counts(sortedDesc(b.leased())));
        }
        if (!b.heldByApp().isEmpty()) {
            j.add("by application " + counts(b.heldByApp()));
        }
        if (b.idle() > 0) {
            j.add(b.idle() + " idle in the pool");
        }
        if (b.bypassing() > 0) {
            j.add(b.bypassing() + " bypass Sluice: " + bypassGroups(b.bypass()));
        }
        return j.toString();
    }

    // ---- SluiceWorkloadSaturated, SluiceWorkloadShedding, SluiceBreakerOpen ----

    private void workloads(ProxySnapshot s, List<Condition> out) {
        long now = s.at().toEpochMilli();
        Set<String> present = new HashSet<>();
        for (ProxySnapshot.WorkloadView w : s.workloads()) {
            present.add(w.name());
            Map<String, String> labels = Map.of("workload", w.name());
            String limits = w.leased() + " in use" + (w.max() > 0 ? " of max " + w.max() : "")
                    + (w.reserve() > 0 ? " (reserve " + w.reserve() + ")" : "");
            Map<String, Number> values = new LinkedHashMap<>();
            values.put("queued", w.queued());
            values.put("in_use", w.leased());
            values.put("max", w.max());
            values.put("clients", w.clients());
            out.add(new Condition("SluiceWorkloadSaturated", severityOf("SluiceWorkloadSaturated"), labels,
                    w.queued() > 0 ? Level.FIRE : Level.CLEAR, cfg.fireAfter(),
                    "workload " + w.name() + ": " + w.queued() + " client(s) waiting for a server connection; " + limits,
                    appCulprit(w), values));

            ArrayDeque<long[]> h = refusals.computeIfAbsent(w.name(), k -> new ArrayDeque<>());
            h.addLast(new long[] {now, w.refusedMaxClients(), w.refusedQueueTimeout(), w.shedByBreaker(),
                w.refusedMaxQueue()});
            while (h.size() > 1 && h.peekFirst()[0] < now - WINDOW_MILLIS) {
                h.pollFirst();
            }
            long[] first = h.peekFirst();
            long maxClients = w.refusedMaxClients() - first[1];
            long queueTimeouts = w.refusedQueueTimeout() - first[2];
            long breaker = w.shedByBreaker() - first[3];
            long maxQueue = w.refusedMaxQueue() - first[4];
            long refused = maxClients + maxQueue + queueTimeouts + breaker;
            if (cfg.shedWarn() >= 0) {
                Map<String, Number> v = new LinkedHashMap<>();
                v.put("refused_last_minute", refused);
                v.put("max_clients", maxClients);
                v.put("max_queue", maxQueue);
                v.put("queue_timeout", queueTimeouts);
                v.put("breaker_open", breaker);
                out.add(new Condition("SluiceWorkloadShedding", severityOf("SluiceWorkloadShedding"), labels,
                        atLeast(refused, Math.max(1, cfg.shedWarn())), Duration.ZERO,
                        "workload " + w.name() + " refused " + refused + " request(s) in the last minute: " + maxClients
                                + " at max_clients" + (w.maxClients() > 0 ? " (" + w.maxClients() + ")" : "") + ", "
                                + maxQueue + " at max_queue, " + queueTimeouts + " queue timeouts, " + breaker
                                + " shed by its circuit breaker",
                        appCulprit(w), v));
            }
            if (!w.breakerState().equals("none")) {
                boolean open = w.breakerState().equals("open") || w.breakerState().equals("half_open");
                out.add(new Condition("SluiceBreakerOpen", severityOf("SluiceBreakerOpen"), labels, open ? Level.FIRE : Level.CLEAR,
                        Duration.ZERO, "workload " + w.name() + " circuit breaker is " + w.breakerState()
                                + ": its requests are refused at once (57P03) until a probe succeeds; "
                                + w.shedByBreaker() + " shed so far", appCulprit(w),
                        Map.of("shed_total", w.shedByBreaker())));
            }
        }
        refusals.keySet().retainAll(present);
    }

    private static String appCulprit(ProxySnapshot.WorkloadView w) {
        StringJoiner j = new StringJoiner("; ");
        if (!w.heldByApp().isEmpty()) {
            j.add("servers held by application " + counts(w.heldByApp()));
        }
        if (!w.clientsByApp().isEmpty()) {
            j.add("client connections by application " + counts(w.clientsByApp()));
        }
        return j.toString();
    }

    // ---- SluiceLeakSuspect ----

    private void leaks(ProxySnapshot s, List<Condition> out) {
        for (LeakDetector.Suspect x : s.suspects()) {
            var src = x.source();
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("workload", src.workload());
            labels.put("application_name", src.applicationName());
            labels.put("user", src.user());
            labels.put("address", src.address());
            Map<String, Number> values = new LinkedHashMap<>();
            values.put("idle_connections", x.idleConnections());
            values.put("open_connections", x.openConnections());
            values.put("growth_in_window", x.growthInWindow());
            values.put("oldest_idle_seconds", x.oldestIdleSeconds());
            out.add(new Condition("SluiceLeakSuspect", severityOf("SluiceLeakSuspect"), labels, Level.FIRE, Duration.ZERO,
                    x.idleConnections() + " idle client connections of " + x.openConnections() + " open, +"
                            + x.growthInWindow() + " in the leak window and still rising (oldest idle "
                            + x.oldestIdleSeconds() + "s)",
                    src + ", last statement: " + (x.lastStatement() == null ? "(none)" : "\"" + x.lastStatement() + "\""),
                    values));
        }
    }

    // ---- SluiceBypassHigh ----

    private void bypass(ProxySnapshot s, List<Condition> out) {
        if (cfg.bypassWarn() < 0) {
            return;
        }
        for (ProxySnapshot.Budget b : s.budgets()) {
            if (!b.source().equals("auto") || b.capacity() == null) {
                continue;
            }
            int n = b.bypassing();
            Level level = n > cfg.bypassWarn() ? Level.FIRE
                    : n <= Math.floor(cfg.bypassWarn() * (1 - cfg.resolveMargin())) ? Level.CLEAR : Level.HOLD;
            out.add(new Condition("SluiceBypassHigh", severityOf("SluiceBypassHigh"), Map.of("server", b.server()), level,
                    cfg.fireAfter(), n + " connection(s) to " + b.server() + " bypass Sluice (warn above "
                            + cfg.bypassWarn() + "); they leave Sluice a budget of " + b.budget() + " of max_connections "
                            + b.capacity().maxConnections(),
                    bypassGroups(b.bypass()), Map.of("bypassing", n, "budget", b.budget())));
        }
    }

    // ---- SluicePostgresUnreachable ----

    private void unreachable(ProxySnapshot s, List<Condition> out) {
        for (PostgresProbe.Result r : s.probes()) {
            out.add(new Condition("SluicePostgresUnreachable", severityOf("SluicePostgresUnreachable"), Map.of("server", r.server()),
                    r.reachable() ? Level.CLEAR : Level.FIRE, cfg.fireAfter(),
                    "PostgreSQL at " + r.server() + " cannot be reached" + (r.error() == null ? "" : ": " + r.error()),
                    "databases " + String.join(", ", r.databases()), Map.of("reachable", r.reachable() ? 1 : 0)));
        }
    }

    // ---- SluiceAuthFailures ----

    private void authFailures(ProxySnapshot s, List<Condition> out) {
        if (cfg.authFailuresWarn() < 0) {
            return;
        }
        int n = s.recentAuthFailures().size();
        Map<String, Integer> who = new HashMap<>();
        for (TrafficMetrics.AuthFailure f : s.recentAuthFailures()) {
            who.merge("user " + f.user() + " from " + f.address() + " to " + f.database(), 1, Integer::sum);
        }
        out.add(new Condition("SluiceAuthFailures", severityOf("SluiceAuthFailures"), Map.of(),
                atLeast(n, Math.max(1, cfg.authFailuresWarn())), Duration.ZERO,
                n + " client login(s) failed authentication in the last minute (warn at " + cfg.authFailuresWarn() + ")",
                counts(Snapshotter.top(who)), Map.of("failures_last_minute", n)));
    }

    // ---- helpers ----

    /** FIRE at or above the threshold, CLEAR below threshold x (1 - margin), HOLD in between. */
    private Level atLeast(double value, double threshold) {
        if (value >= threshold) {
            return Level.FIRE;
        }
        return value < threshold * (1 - cfg.resolveMargin()) ? Level.CLEAR : Level.HOLD;
    }

    static String pct(double ratio) {
        double p = ratio * 100;
        return (Math.abs(p - Math.rint(p)) < 0.05 ? String.valueOf(Math.round(p))
                : String.format(Locale.ROOT, "%.1f", p)) + "%";
    }

    private static Map<String, Integer> sortedDesc(Map<String, Integer> m) {
        return Snapshotter.top(m);
    }

    /** "analytics 10, api 3"; an empty name shows as (none). */
    private static String counts(Map<String, Integer> m) {
        StringJoiner j = new StringJoiner(", ");
        m.forEach((k, v) -> j.add((k.isEmpty() ? "(none)" : k) + " " + v));
        return j.toString();
    }

    private static String bypassGroups(List<BypassGroup> groups) {
        StringJoiner j = new StringJoiner(", ");
        groups.stream().limit(5).forEach(g -> j.add(g.describe()));
        if (groups.size() > 5) {
            j.add("and " + (groups.size() - 5) + " more group(s)");
        }
        return j.toString();
    }
}
