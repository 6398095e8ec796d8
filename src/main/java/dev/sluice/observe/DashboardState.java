package dev.sluice.observe;

import dev.sluice.config.AlertsConfig;
import dev.sluice.guard.BypassGroup;
import dev.sluice.guard.LeakDetector;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

// The dashboard's JSON: the latest snapshot shaped for the page, plus ten minutes of budget and rate history.
/**
 * Updated once a second by the observer thread; {@link #json()} is read by the HTTP thread for /api/state
 * and for the first event of a new /events stream.
 */
final class DashboardState {
    private static final int HISTORY_POINTS = 600; // ten minutes at one update a second

    private final AlertsConfig alerts;
    private final Instant started = Instant.now();
    private final Map<String, ArrayDeque<double[]>> budgetHistory = new HashMap<>();
    private final ArrayDeque<double[]> rateHistory = new ArrayDeque<>();
    private long lastTransactions = -1;
    private long lastQueries = -1;
    private Instant lastAt;
    private volatile String json = "{}";

    DashboardState(AlertsConfig alerts) {
        this.alerts = alerts;
    }

    String json() {
        return json;
    }

    String update(ProxySnapshot s, List<Alert> firing, List<AlertEngine.Event> events) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("at", s.at());
        out.put("uptimeSeconds", Duration.between(started, s.at()).toSeconds());

        Map<String, Integer> byState = new TreeMap<>();
        for (String st : List.of("active", "idle", "waiting", "login")) {
            byState.put(st, 0);
        }
        for (ProxySnapshot.ClientGroup g : s.clients()) {
            byState.merge(g.state(), g.count(), Integer::sum);
        }
        out.put("clients", Map.of("total", s.clientCount(), "max", s.maxClientConn(), "byState", byState));

        double tps = 0;
        double qps = 0;
        if (lastAt != null && lastTransactions >= 0) {
            double secs = Math.max(0.001, Duration.between(lastAt, s.at()).toMillis() / 1000.0);
            tps = (s.transactions() - lastTransactions) / secs;
            qps = (s.queries() - lastQueries) / secs;
        }
        lastAt = s.at();
        lastTransactions = s.transactions();
        lastQueries = s.queries();
        push(rateHistory, new double[] {s.at().toEpochMilli(), round(tps)});
        out.put("rates", Map.of("tps", round(tps), "qps", round(qps), "counted", true,
                "history", List.copyOf(rateHistory)));

        List<Object> budgets = new ArrayList<>();
        for (ProxySnapshot.Budget b : s.budgets()) {
            String key = b.server() + "/" + b.database();
            ArrayDeque<double[]> h = budgetHistory.computeIfAbsent(key, k -> new ArrayDeque<>());
            if (b.known()) {
                push(h, new double[] {s.at().toEpochMilli(), round(b.ratio()), b.used(), b.budget()});
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("target", b.target());
            m.put("server", b.server());
            m.put("database", b.database());
            m.put("source", b.source());
            m.put("used", b.used());
            m.put("budget", b.budget());
            m.put("known", b.known());
            m.put("ratio", round(b.ratio()));
            m.put("idle", b.idle());
            m.put("leased", b.leased());
            m.put("heldByApp", b.heldByApp());
            m.put("stale", b.stale());
            m.put("lastError", b.lastError());
            if (b.capacity() != null) {
                m.put("maxConnections", b.capacity().maxConnections());
                m.put("bypassing", b.bypassing());
                m.put("explain", b.capacity().explain());
            }
            List<Object> bypass = new ArrayList<>();
            for (BypassGroup g : b.bypass()) {
                bypass.add(Map.of("app", g.applicationName(), "user", g.user(),
                        "address", g.hidden() ? "hidden" : String.valueOf(g.clientAddress()), "count", g.count()));
            }
            m.put("bypass", bypass);
            m.put("history", List.copyOf(h));
            budgets.add(m);
        }
        budgetHistory.keySet().retainAll(s.budgets().stream().map(b -> b.server() + "/" + b.database()).toList());
        out.put("budgets", budgets);
        out.put("thresholds", Map.of("warn", alerts.budgetWarn(), "critical", alerts.budgetCritical()));

        List<Object> workloads = new ArrayList<>();
        for (ProxySnapshot.WorkloadView w : s.workloads()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", w.name());
            m.put("clients", w.clients());
            m.put("maxClients", w.maxClients());
            m.put("inUse", w.leased());
            m.put("max", w.max());
            m.put("reserve", w.reserve());
            m.put("queued", w.queued());
            m.put("breaker", w.breakerState());
            m.put("refused", Map.of("max_clients", w.refusedMaxClients(), "max_queue", w.refusedMaxQueue(),
                    "queue_timeout", w.refusedQueueTimeout(), "breaker_open", w.shedByBreaker()));
            m.put("heldByApp", w.heldByApp());
            workloads.add(m);
        }
        out.put("workloads", workloads);

        List<Object> alertList = new ArrayList<>();
        for (Alert a : firing) {
            alertList.add(WebhookSink.payload(a, null));
        }
        out.put("alerts", alertList);
        List<Object> recent = new ArrayList<>();
        for (int i = events.size() - 1; i >= 0 && recent.size() < 10; i--) {
            recent.add(WebhookSink.payload(events.get(i).alert(), null));
        }
        out.put("recentAlerts", recent);

        List<Object> suspects = new ArrayList<>();
        for (LeakDetector.Suspect x : s.suspects()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("workload", x.source().workload());
            m.put("app", x.source().applicationName());
            m.put("user", x.source().user());
            m.put("address", x.source().address());
            m.put("idle", x.idleConnections());
            m.put("open", x.openConnections());
            m.put("growth", x.growthInWindow());
            m.put("oldestIdleSeconds", x.oldestIdleSeconds());
            m.put("lastStatement", x.lastStatement());
            suspects.add(m);
        }
        out.put("suspects", suspects);

        List<Object> holders = new ArrayList<>();
        for (ProxySnapshot.Holder h : s.topHolders()) {
            holders.add(Map.of("app", h.applicationName(), "user", h.user(), "database", h.database(),
                    "workload", h.workload(), "address", h.address(), "seconds", round(h.holdingSeconds())));
        }
        out.put("holders", holders);

        List<Object> probes = new ArrayList<>();
        for (PostgresProbe.Result r : s.probes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("server", r.server());
            m.put("reachable", r.reachable());
            m.put("error", r.error());
            probes.add(m);
        }
        out.put("probes", probes);
        String j = Json.write(out);
        json = j;
        return j;
    }

    private static void push(ArrayDeque<double[]> h, double[] point) {
        h.addLast(point);
        while (h.size() > HISTORY_POINTS) {
            h.pollFirst();
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
