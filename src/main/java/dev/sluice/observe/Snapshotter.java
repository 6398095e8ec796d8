package dev.sluice.observe;

import dev.sluice.frontend.ClientSession;
import dev.sluice.guard.BudgetMonitor;
import dev.sluice.guard.BudgetSnapshot;
import dev.sluice.guard.Workload;
import dev.sluice.pool.PoolCounts;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

// Reads the proxy into a ProxySnapshot: pool counts under the pool lock, clients from the live set.
/**
 * Cheap enough to run once a second and on every scrape: one pass over the pools under the pool manager's
 * lock (microseconds), one pass over the client sessions without any lock (their fields are read as
 * they are at that moment, which is what a display needs).
 */
final class Snapshotter {
    private static final int TOP_HOLDERS = 10;
    private static final int TOP_APPS = 5;

    private final ProxyView view;
    private final TrafficMetrics traffic;
    private final PostgresProbe probe;

    Snapshotter(ProxyView view, TrafficMetrics traffic, PostgresProbe probe) {
        this.view = view;
        this.traffic = traffic;
        this.probe = probe;
    }

    ProxySnapshot take() {
        Instant at = Instant.now();
        long now = System.nanoTime();
        List<PoolCounts> pools = view.pools().counts();

        // clients: by (database, user, workload, state); per workload; per server; the longest holders
        Map<ProxySnapshot.ClientGroup, int[]> groups = new LinkedHashMap<>();
        Map<String, Map<String, Integer>> clientsByWorkloadApp = new HashMap<>();
        Map<String, Map<String, Integer>> heldByWorkloadApp = new HashMap<>();
        Map<String, Map<String, Integer>> heldByServerApp = new HashMap<>();
        Map<String, Map<String, Integer>> heldByDatabaseApp = new HashMap<>();
        List<ProxySnapshot.Holder> holders = new ArrayList<>();
        Map<dev.sluice.pool.PoolKey, String> serverOfPool = new HashMap<>();
        for (PoolCounts p : pools) {
            serverOfPool.put(p.key(), p.server());
        }
        int clientCount = 0;
        for (ClientSession c : view.clients().get()) {
            clientCount++;
            try {
                addClient(c, now, groups, clientsByWorkloadApp, heldByWorkloadApp, heldByServerApp, heldByDatabaseApp,
                        holders, serverOfPool);
            } catch (RuntimeException e) {
                // a session changing under our feet (its fields belong to its event loop): skip it this time
            }
        }
        List<ProxySnapshot.ClientGroup> clientGroups = new ArrayList<>();
        groups.forEach((g, n) -> clientGroups.add(new ProxySnapshot.ClientGroup(g.database(), g.user(), g.workload(),
                g.state(), n[0])));
        holders.sort(Comparator.comparingDouble(ProxySnapshot.Holder::holdingSeconds).reversed());
        if (holders.size() > TOP_HOLDERS) {
            holders = new ArrayList<>(holders.subList(0, TOP_HOLDERS));
        }

        // workloads: limits and counters from the guard, leases from the pools' locked counts
        Map<String, Integer> leasedByWorkload = new HashMap<>();
        for (PoolCounts p : pools) {
            p.leasedByWorkload().forEach((k, v) -> leasedByWorkload.merge(k, v, Integer::sum));
        }
        List<ProxySnapshot.WorkloadView> workloads = new ArrayList<>();
        for (Workload w : view.pools().workloads().all()) {
            var cfg = w.config();
            workloads.add(new ProxySnapshot.WorkloadView(w.name(), w.clients(), cfg.maxClients(),
                    leasedByWorkload.getOrDefault(w.name(), 0), cfg.max(), cfg.reserve(), w.queued(),
                    w.breakerState(), w.refusedMaxClients(), w.refusedMaxQueue(), w.refusedQueueTimeout(),
                    w.shedByBreaker(),
                    top(clientsByWorkloadApp.get(w.name())), top(heldByWorkloadApp.get(w.name()))));
        }

        List<ProxySnapshot.Budget> budgets = budgets(pools, heldByServerApp, heldByDatabaseApp);
        Map<dev.sluice.pool.PoolKey, dev.sluice.pool.PoolStats.Totals> totals = new HashMap<>();
        for (var p : view.pools().pools()) {
            totals.put(p.key(), p.stats().totals());
        }
        var authFailures = traffic == null ? List.<TrafficMetrics.AuthFailure>of()
                : traffic.authFailuresSince(System.currentTimeMillis() - 60_000);
        return new ProxySnapshot(at, pools, totals, budgets, workloads, clientGroups, holders,
                view.leakDetector().suspects(), probe == null ? List.of() : probe.results(), clientCount,
                view.pools().config().settings().maxClientConn(), authFailures);
    }

    private static void addClient(ClientSession c, long now, Map<ProxySnapshot.ClientGroup, int[]> groups,
            Map<String, Map<String, Integer>> clientsByWorkloadApp, Map<String, Map<String, Integer>> heldByWorkloadApp,
            Map<String, Map<String, Integer>> heldByServerApp, Map<String, Map<String, Integer>> heldByDatabaseApp,
            List<ProxySnapshot.Holder> holders, Map<dev.sluice.pool.PoolKey, String> serverOfPool) {
        String state = c.consoleState();
        Workload w = c.workload();
        String wl = w == null ? "" : w.name();
        String db = nz(c.database());
        String user = nz(c.user());
        String app = c.applicationName();
        groups.computeIfAbsent(new ProxySnapshot.ClientGroup(db, user, wl, state, 0), k -> new int[1])[0]++;
        if (w == null) {
            return;
        }
        clientsByWorkloadApp.computeIfAbsent(wl, k -> new HashMap<>()).merge(app, 1, Integer::sum);
        var pool = c.pool();
        if (state.equals("active") && pool != null) {
            heldByWorkloadApp.computeIfAbsent(wl, k -> new HashMap<>()).merge(app, 1, Integer::sum);
            heldByDatabaseApp.computeIfAbsent(pool.key().database(), k -> new HashMap<>()).merge(app, 1, Integer::sum);
            var server = c.linkedServer();
            String serverKey = serverOfPool.get(pool.key());
            if (serverKey != null && server != null) {
                heldByServerApp.computeIfAbsent(serverKey, k -> new HashMap<>()).merge(app, 1, Integer::sum);
            }
            long since = c.metrics().holdingSinceNanos();
            holders.add(new ProxySnapshot.Holder(app, user, db, wl, address(c), since == 0 ? 0 : (now - since) / 1e9,
                    state));
        }
    }

    /** One budget per monitored server (auto), then one per database of the other pools. */
    private List<ProxySnapshot.Budget> budgets(List<PoolCounts> pools, Map<String, Map<String, Integer>> heldByServerApp,
            Map<String, Map<String, Integer>> heldByDatabaseApp) {
        List<ProxySnapshot.Budget> out = new ArrayList<>();
        Map<String, BudgetMonitor> monitored = new LinkedHashMap<>();
        for (BudgetMonitor m : view.budgetMonitors()) {
            monitored.put(m.target().server(), m);
        }
        for (BudgetMonitor m : monitored.values()) {
            String server = m.target().server();
            BudgetSnapshot s = m.snapshot();
            int used = 0;
            int idle = 0;
            Map<String, Integer> leased = new HashMap<>();
            for (PoolCounts p : pools) {
                if (p.server().equals(server)) {
                    used += p.servers();
                    idle += p.idle();
                    p.leasedByWorkload().forEach((k, v) -> leased.merge(k, v, Integer::sum));
                }
            }
            out.add(new ProxySnapshot.Budget(server, "", "auto", used, s.budget().orElse(-1), idle, s.capacity(),
                    s.bypass(), s.isStale(), s.lastError(), leased, top(heldByServerApp.get(server))));
        }
        Map<String, List<PoolCounts>> byDatabase = new LinkedHashMap<>();
        for (PoolCounts p : pools) {
            if (!p.budgeted() || !monitored.containsKey(p.server())) {
                byDatabase.computeIfAbsent(p.key().database(), k -> new ArrayList<>()).add(p);
            }
        }
        byDatabase.forEach((db, ps) -> {
            int used = 0;
            int idle = 0;
            Map<String, Integer> leased = new HashMap<>();
            for (PoolCounts p : ps) {
                used += p.servers();
                idle += p.idle();
                p.leasedByWorkload().forEach((k, v) -> leased.merge(k, v, Integer::sum));
            }
            PoolCounts first = ps.get(0);
            String source = first.settings().maxDbConnections() > 0 ? "max_db_connections" : "pool_size";
            out.add(new ProxySnapshot.Budget(first.server(), db, source, used, first.capacity(), idle, null,
                    List.of(), false, null, leased, top(heldByDatabaseApp.get(db))));
        });
        return out;
    }

    /** The largest entries first, at most TOP_APPS, in an ordered map. */
    static Map<String, Integer> top(Map<String, Integer> counts) {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (counts == null) {
            return out;
        }
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(TOP_APPS)
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    private static String address(ClientSession c) {
        try {
            SocketAddress a = c.remoteAddress();
            return a instanceof InetSocketAddress i && i.getAddress() != null ? i.getAddress().getHostAddress()
                    : String.valueOf(a);
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
