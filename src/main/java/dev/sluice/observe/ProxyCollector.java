package dev.sluice.observe;

import dev.sluice.config.AlertsConfig;
import dev.sluice.guard.BypassGroup;
import dev.sluice.guard.LeakDetector;
import dev.sluice.pool.PoolCounts;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

// The state metrics: one snapshot of the proxy per scrape, turned into Prometheus gauges and counters.
/**
 * Names follow the Prometheus conventions: sluice_ prefix, base units (seconds, bytes), _total for counters,
 * _ratio for a share of 1. Counting metrics (transactions, queries, bytes, durations) live in
 * {@link TrafficMetrics}; this collector reads what the proxy already keeps (pools, workloads, the budget
 * monitor, the leak detector, the probe, the alert engine) so nothing is counted twice.
 */
final class ProxyCollector implements MultiCollector {
    /** Bypass groups are exported one series each, the largest first, up to this many per server. */
    private static final int MAX_BYPASS_SERIES = 20;

    private final Supplier<ProxySnapshot> snapshots;
    private final AlertEngine alerts;
    private final double startTimeSeconds = System.currentTimeMillis() / 1000.0;

    ProxyCollector(Supplier<ProxySnapshot> snapshots, AlertEngine alerts) {
        this.snapshots = snapshots;
        this.alerts = alerts;
    }

    /** One metric family being built: a name, help, label names and data points. */
    private static final class Family {
        final String name;
        final String help;
        final String[] labelNames;
        final boolean counter;
        final List<Object> points = new ArrayList<>();

        Family(String name, String help, boolean counter, String... labelNames) {
            this.name = name;
            this.help = help;
            this.counter = counter;
            this.labelNames = labelNames;
        }

        Family add(double value, String... labelValues) {
            Labels labels = labelNames.length == 0 ? Labels.EMPTY : Labels.of(labelNames, labelValues);
            points.add(counter
                    ? CounterSnapshot.CounterDataPointSnapshot.builder().value(value).labels(labels).build()
                    : GaugeSnapshot.GaugeDataPointSnapshot.builder().value(value).labels(labels).build());
            return this;
        }

        MetricSnapshot build() {
            if (counter) {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
                points.forEach(p -> b.dataPoint((CounterSnapshot.CounterDataPointSnapshot) p));
                return b.build();
            }
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
            points.forEach(p -> b.dataPoint((GaugeSnapshot.GaugeDataPointSnapshot) p));
            return b.build();
        }
    }

    @Override
    public MetricSnapshots collect() {
        ProxySnapshot s = snapshots.get();
        List<Family> out = new ArrayList<>();

        out.add(new Family("sluice_start_time_seconds", "When this Sluice started, in seconds since the epoch", false)
                .add(startTimeSeconds));

        // clients
        Family clients = gauge(out, "sluice_clients", "Client connections by database, user, workload and state "
                + "(login, waiting for a server, active with a server, idle)", "database", "user", "workload", "state");
        for (ProxySnapshot.ClientGroup g : s.clients()) {
            clients.add(g.count(), g.database(), g.user(), g.workload(), g.state());
        }
        gauge(out, "sluice_max_client_connections", "max_client_conn: client connections Sluice accepts in all")
                .add(s.maxClientConn());

        // servers and pools
        Family servers = gauge(out, "sluice_servers", "Server connections to PostgreSQL by pool (database, user), "
                + "server and state (idle, active = leased to a client, opening, closing)", "database", "user", "server",
                "state");
        Family poolSize = gauge(out, "sluice_pool_size", "Configured pool_size of each pool", "database", "user");
        Family poolWaiting = gauge(out, "sluice_pool_waiting_clients", "Clients waiting for a server of the pool",
                "database", "user");
        Family poolOldest = gauge(out, "sluice_pool_oldest_wait_seconds",
                "How long the pool's first waiting client has waited (0 when none waits)", "database", "user");
        for (PoolCounts p : s.pools()) {
            String db = p.key().database();
            String user = p.key().user();
            servers.add(p.idle(), db, user, p.server(), "idle");
            servers.add(p.active(), db, user, p.server(), "active");
            servers.add(p.connecting(), db, user, p.server(), "opening");
            servers.add(p.closing(), db, user, p.server(), "closing");
            poolSize.add(p.settings().poolSize(), db, user);
            poolWaiting.add(p.waiting(), db, user);
            poolOldest.add(p.oldestWaitNanos() / 1e9, db, user);
        }

        // traffic: the pools' own SHOW STATS counters (latency histograms are in TrafficMetrics)
        Family tx = counter(out, "sluice_transactions", "Transactions completed through Sluice (ReadyForQuery back to "
                + "idle), by pool", "database", "user");
        Family queries = counter(out, "sluice_queries", "Queries completed through Sluice (one per ReadyForQuery), by "
                + "pool", "database", "user");
        Family received = counter(out, "sluice_received_bytes", "Bytes received from clients after login, by pool",
                "database", "user");
        Family sent = counter(out, "sluice_sent_bytes", "Bytes of server replies sent to clients, by pool", "database",
                "user");
        Family waited = counter(out, "sluice_pool_wait_seconds", "Total time clients of the pool waited for a server "
                + "connection", "database", "user");
        s.traffic().forEach((key, t) -> {
            tx.add(t.xactCount(), key.database(), key.user());
            queries.add(t.queryCount(), key.database(), key.user());
            received.add(t.received(), key.database(), key.user());
            sent.add(t.sent(), key.database(), key.user());
            waited.add(t.waitTimeUs() / 1e6, key.database(), key.user());
        });

        // the database budget
        Family budget = gauge(out, "sluice_budget_connections", "The limit on Sluice's server connections: the budget "
                + "read from PostgreSQL (source=auto, per server), else max_db_connections or the sum of pool sizes "
                + "(per database); -1 while an auto budget is unknown", "server", "database", "source");
        Family used = gauge(out, "sluice_budget_used_connections",
                "Sluice's server connections counted against that limit", "server", "database", "source");
        Family ratio = gauge(out, "sluice_budget_use_ratio", "Used / limit (a limit of 0 counts as 1: full)",
                "server", "database", "source");
        Family maxConn = gauge(out, "sluice_server_max_connections", "PostgreSQL max_connections", "server");
        Family reserved = gauge(out, "sluice_server_reserved_connections",
                "superuser_reserved_connections + reserved_connections: slots Sluice never uses", "server");
        Family bypassing = gauge(out, "sluice_bypass_connections",
                "Client connections to the server that do not come through Sluice", "server");
        Family bypassGroups = gauge(out, "sluice_bypass_group_connections", "Connections bypassing Sluice by "
                + "application_name, user and client address (largest 20 groups per server)", "server",
                "application_name", "user", "address");
        Family monitorUp = gauge(out, "sluice_budget_monitor_up",
                "1 when the budget monitor's latest reading of the server succeeded", "server");
        for (ProxySnapshot.Budget b : s.budgets()) {
            budget.add(b.budget(), b.server(), b.database(), b.source());
            used.add(b.used(), b.server(), b.database(), b.source());
            if (b.known()) {
                ratio.add(b.ratio(), b.server(), b.database(), b.source());
            }
            if (!b.source().equals("auto")) {
                continue;
            }
            monitorUp.add(b.known() && !b.stale() ? 1 : 0, b.server());
            if (b.capacity() != null) {
                maxConn.add(b.capacity().maxConnections(), b.server());
                reserved.add(b.capacity().superuserReserved() + b.capacity().reserved(), b.server());
                bypassing.add(b.bypassing(), b.server());
                int n = 0;
                for (BypassGroup g : b.bypass()) {
                    if (n++ == MAX_BYPASS_SERIES) {
                        break;
                    }
                    bypassGroups.add(g.count(), b.server(), g.applicationName(), g.user(),
                            g.hidden() ? "hidden" : String.valueOf(g.clientAddress()));
                }
            }
        }

        // workloads
        Family wClients = gauge(out, "sluice_workload_clients", "Client connections of the workload", "workload");
        Family wMaxClients = gauge(out, "sluice_workload_max_clients", "max_clients of the workload (0 = none)",
                "workload");
        Family wInUse = gauge(out, "sluice_workload_servers_in_use", "Server connections leased to the workload's "
                + "clients", "workload");
        Family wMax = gauge(out, "sluice_workload_max_servers", "max of the workload (0 = none)", "workload");
        Family wReserve = gauge(out, "sluice_workload_reserved_servers", "reserve of the workload", "workload");
        Family wQueue = gauge(out, "sluice_workload_queue_length", "Clients of the workload waiting for a server",
                "workload");
        Family wShed = counter(out, "sluice_workload_shed", "Requests of the workload refused, by reason: "
                + "max_clients (login refused), max_queue (too many waiting), queue_timeout (waited too long), "
                + "breaker_open (shed at once)",
                "workload", "reason");
        Family wBreaker = gauge(out, "sluice_workload_breaker_state", "1 for the circuit breaker's current state "
                + "(closed, open, half_open), 0 for the others; workloads without a breaker have none", "workload",
                "state");
        for (ProxySnapshot.WorkloadView w : s.workloads()) {
            wClients.add(w.clients(), w.name());
            wMaxClients.add(w.maxClients(), w.name());
            wInUse.add(w.leased(), w.name());
            wMax.add(w.max(), w.name());
            wReserve.add(w.reserve(), w.name());
            wQueue.add(w.queued(), w.name());
            wShed.add(w.refusedMaxClients(), w.name(), "max_clients");
            wShed.add(w.refusedMaxQueue(), w.name(), "max_queue");
            wShed.add(w.refusedQueueTimeout(), w.name(), "queue_timeout");
            wShed.add(w.shedByBreaker(), w.name(), "breaker_open");
            if (!w.breakerState().equals("none")) {
                for (String st : List.of("closed", "open", "half_open")) {
                    wBreaker.add(st.equals(w.breakerState()) ? 1 : 0, w.name(), st);
                }
            }
        }

        // leaks
        gauge(out, "sluice_leak_suspects", "Sources of client connections that look like a leak").add(s.suspects().size());
        Family leak = gauge(out, "sluice_leak_suspect_idle_connections", "Idle client connections of each leak "
                + "suspect", "workload", "application_name", "user", "address");
        for (LeakDetector.Suspect x : s.suspects()) {
            leak.add(x.idleConnections(), x.source().workload(), x.source().applicationName(), x.source().user(),
                    x.source().address());
        }

        // PostgreSQL reachability
        Family reach = gauge(out, "sluice_postgres_reachable", "1 when the latest probe reached PostgreSQL", "server");
        Family probeSeconds = gauge(out, "sluice_postgres_probe_duration_seconds", "How long the latest probe took",
                "server");
        for (PostgresProbe.Result r : s.probes()) {
            reach.add(r.reachable() ? 1 : 0, r.server());
            probeSeconds.add(r.seconds(), r.server());
        }

        // alerts
        Family firing = gauge(out, "sluice_alerts_firing", "Alert instances firing now, by alert name and severity",
                "alertname", "severity");
        Map<String, Integer> count = new HashMap<>();
        for (Alert a : alerts.firing()) {
            count.merge(a.name(), 1, Integer::sum);
        }
        for (String name : AlertsConfig.ALERT_NAMES) {
            firing.add(count.getOrDefault(name, 0), name, AlertRules.severityOf(name).label());
        }

        List<MetricSnapshot> snapshotsOut = new ArrayList<>();
        for (Family f : out) {
            if (!f.points.isEmpty()) {
                snapshotsOut.add(f.build());
            }
        }
        return new MetricSnapshots(snapshotsOut);
    }

    private static Family gauge(List<Family> out, String name, String help, String... labels) {
        Family f = new Family(name, help, false, labels);
        out.add(f);
        return f;
    }

    private static Family counter(List<Family> out, String name, String help, String... labels) {
        Family f = new Family(name, help, true, labels);
        out.add(f);
        return f;
    }
}
