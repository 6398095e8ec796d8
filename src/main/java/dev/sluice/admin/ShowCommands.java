package dev.sluice.admin;

import static dev.sluice.admin.ResultTable.Column.int4;
import static dev.sluice.admin.ResultTable.Column.int8;
import static dev.sluice.admin.ResultTable.Column.numeric;
import static dev.sluice.admin.ResultTable.Column.text;

import dev.sluice.admin.ResultTable.Column;
import dev.sluice.admin.StatsAverages.Averages;
import dev.sluice.backend.ServerConnection;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.Settings;
import dev.sluice.config.SettingsTable;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.UserConfig;
import dev.sluice.frontend.ClientSession;
import dev.sluice.pool.PoolSnapshot;
import dev.sluice.pool.PoolStats.Totals;
import dev.sluice.protocol.SqlState;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The SHOW commands: PgBouncer's column names, order and types (its documented columns; type OIDs as its
 * console sends them: text, int4, and numeric for statistics), filled from pool snapshots and client
 * sessions. Columns for features Sluice lacks (cancel-request states, load balancing) are present
 * with zero or empty values, so tools that read them by name keep working.
 */
final class ShowCommands {
    /** The console's own database and pool name, as PgBouncer shows them. */
    static final String CONSOLE_DB = "pgbouncer";

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    static final List<Column> POOLS = List.of(text("database"), text("user"), int4("cl_active"), int4("cl_waiting"),
            int4("cl_active_cancel_req"), int4("cl_waiting_cancel_req"), int4("sv_active"), int4("sv_active_cancel"),
            int4("sv_being_canceled"), int4("sv_idle"), int4("sv_used"), int4("sv_tested"), int4("sv_login"),
            int4("maxwait"), int4("maxwait_us"), text("pool_mode"), text("load_balance_hosts"));

    static final List<Column> SOCKETS = List.of(text("type"), text("user"), text("database"), text("replication"),
            text("state"), text("addr"), int4("port"), text("local_addr"), int4("local_port"), text("connect_time"),
            text("request_time"), int4("wait"), int4("wait_us"), int4("close_needed"), text("ptr"), text("link"),
            int4("remote_pid"), text("tls"), text("application_name"), int4("prepared_statements"), int8("id"));

    static final List<String> STAT_NAMES = List.of("xact_count", "query_count", "server_assignment_count",
            "server_closed_count", "received", "sent", "xact_time", "query_time", "wait_time", "server_lifetime",
            "client_parse_count", "server_parse_count", "bind_count");

    static final List<Column> DATABASES = List.of(text("name"), text("host"), int4("port"), text("database"),
            text("force_user"), int4("pool_size"), int4("min_pool_size"), int4("reserve_pool_size"),
            int4("server_lifetime"), text("pool_mode"), text("load_balance_hosts"), int4("max_connections"),
            int4("current_connections"), int4("max_client_connections"), int4("current_client_connections"),
            int4("paused"), int4("disabled"));

    static final List<Column> USERS = List.of(text("name"), int4("pool_size"), int4("reserve_pool_size"),
            text("pool_mode"), int4("max_user_connections"), int4("current_connections"),
            int4("max_user_client_connections"), int4("current_client_connections"));

    static final String HELP = String.join("\n", "",
            "\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION",
            "\tSHOW LISTS",
            "\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS",
            "\tSHOW WORKLOADS|LEAKS|BUDGET|BYPASS|ALERTS",
            "\tSET key = arg",
            "\tRELOAD",
            "\tPAUSE [<db>]",
            "\tRESUME [<db>]",
            "\tDISABLE <db>",
            "\tENABLE <db>",
            "\tRECONNECT [<db>]",
            "\tKILL [<db>]",
            "\tKILL_CLIENT <id>",
            "\tSHUTDOWN",
            "\tWAIT_CLOSE [<db>]");

    private ShowCommands() {}

    /** The result of SHOW {@code what} (HELP is answered by the session itself, as a notice). */
    static ResultTable show(String what, ConsoleContext ctx) throws AdminException {
        return switch (what) {
            case "POOLS" -> pools(ctx);
            case "CLIENTS" -> clients(ctx);
            case "SERVERS" -> servers(ctx);
            case "STATS" -> stats(ctx);
            case "STATS_TOTALS" -> statsTotals(ctx);
            case "STATS_AVERAGES" -> statsAverages(ctx);
            case "TOTALS" -> totals(ctx);
            case "DATABASES" -> databases(ctx);
            case "USERS" -> users(ctx);
            case "CONFIG" -> config(ctx);
            case "LISTS" -> lists(ctx);
            case "VERSION" -> ResultTable.of(text("version")).row(ctx.version());
            case "WORKLOADS" -> workloads(ctx);
            case "ALERTS" -> alerts(ctx);
            case "LEAKS" -> leaks(ctx);
            case "BUDGET" -> budget(ctx);
            case "BYPASS" -> bypass(ctx);
            case "FDS", "SOCKETS", "ACTIVE_SOCKETS", "MEM", "DNS_HOSTS", "DNS_ZONES", "PEERS", "PEER_POOLS", "STATE" ->
                    throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "sluice: SHOW " + what
                            + " is not available in Sluice; see SHOW HELP");
            default -> throw new AdminException(SqlState.SYNTAX_ERROR, "invalid command 'SHOW " + what
                    + "', use SHOW HELP;");
        };
    }

    // ---- pools, clients, servers ----

    private static ResultTable pools(ConsoleContext ctx) {
        ResultTable t = new ResultTable(POOLS);
        Map<Object, Integer> clientsByPool = new java.util.HashMap<>();
        for (ClientSession c : ctx.clients()) {
            String st = c.consoleState();
            if (c.pool() != null && (st.equals("active") || st.equals("idle"))) {
                clientsByPool.merge(c.pool(), 1, Integer::sum);
            }
        }
        t.row(CONSOLE_DB, CONSOLE_DB, ctx.consoleSessions().size(), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                "statement", null);
        for (PoolSnapshot p : ctx.pools().snapshot()) {
            long wait = p.oldestWaitNanos() / 1000;
            t.row(p.key().database(), p.key().user(), clientsByPool.getOrDefault(p.pool(), 0), p.waiting(), 0, 0,
                    p.active().size(), 0, 0, p.idle().size(), 0, 0, p.connecting(), (int) (wait / 1_000_000),
                    (int) (wait % 1_000_000), p.settings().mode().configWord(), null);
        }
        return t;
    }

    private static ResultTable clients(ConsoleContext ctx) {
        ResultTable t = new ResultTable(SOCKETS);
        long nowNanos = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        for (AdminSession a : ctx.consoleSessions()) {
            t.row("C", a.user(), CONSOLE_DB, "none", "active", host(a.remoteAddress()), port(a.remoteAddress()),
                    host(a.localAddress()), port(a.localAddress()), time(a.connectedAtMillis()),
                    time(wall(a.lastRequestNanos(), nowNanos, nowMillis)), 0, 0, 0, "C-" + a.id(), "", 0,
                    a.tlsDescription(), a.applicationName(), 0, a.id());
        }
        for (ClientSession c : ctx.clients()) {
            String state = c.consoleState();
            if (state.equals("login")) {
                continue; // PgBouncer lists clients once they are logged in (SHOW LISTS counts the others)
            }
            long since = c.waitingSinceNanos();
            long waitUs = since == 0 ? 0 : (nowNanos - since) / 1000;
            ServerConnection s = c.linkedServer();
            t.row("C", c.user(), c.database(), "none", state, host(c.remoteAddress()), port(c.remoteAddress()),
                    host(c.localAddress()), port(c.localAddress()), time(c.connectedAtMillis()),
                    time(wall(c.lastActivityNanos(), nowNanos, nowMillis)), (int) (waitUs / 1_000_000),
                    (int) (waitUs % 1_000_000), 0, "C-" + c.id(), s == null ? "" : "S-" + s.id(), 0, c.tlsDescription(),
                    c.applicationName(), c.preparedStatementCount(), c.id());
        }
        return t;
    }

    private static ResultTable servers(ConsoleContext ctx) {
        ResultTable t = new ResultTable(SOCKETS);
        long nowNanos = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        for (PoolSnapshot p : ctx.pools().snapshot()) {
            for (ServerConnection s : p.active()) {
                ClientSession owner = s.owner() instanceof ClientSession c ? c : null;
                long request = owner != null ? owner.lastActivityNanos() : s.idleSinceNanos();
                serverRow(t, p, s, "active", owner, time(wall(request, nowNanos, nowMillis)));
            }
            for (ServerConnection s : p.idle()) {
                serverRow(t, p, s, "idle", null, time(wall(s.idleSinceNanos(), nowNanos, nowMillis)));
            }
        }
        return t;
    }

    private static void serverRow(ResultTable t, PoolSnapshot p, ServerConnection s, String state, ClientSession owner,
                                  String requestTime) {
        SocketAddress remote = s.login().address();
        int port = remote instanceof DomainSocketAddress ? p.pool().database().port() : port(remote);
        t.row("S", p.key().user(), p.key().database(), "none", state, host(remote), port,
                host(s.channel().localAddress()), port(s.channel().localAddress()), time(s.createdAtMillis()),
                requestTime, 0, 0, s.closeNeeded() ? 1 : 0, "S-" + s.id(), owner == null ? "" : "C-" + owner.id(),
                s.backendKey() == null ? 0 : s.backendKey().processId(),
                dev.sluice.protocol.TlsDescription.of(s.channel()),
                owner == null ? "" : owner.applicationName(), s.preparedStatements().size(), s.id());
    }

    // ---- statistics ----

    private static Map<String, Totals> totalsByDatabase(ConsoleContext ctx) {
        Map<String, Totals> byDb = new TreeMap<>(StatsAverages.totalsByDatabase(ctx.pools().snapshot()));
        byDb.put(CONSOLE_DB, ctx.consoleStats().totals());
        return byDb;
    }

    private static Object[] totalValues(Totals s) {
        return new Object[] {s.xactCount(), s.queryCount(), s.serverAssignmentCount(), s.serverClosedCount(),
                s.received(), s.sent(), s.xactTimeUs(), s.queryTimeUs(), s.waitTimeUs(), s.serverLifetimeUs(), 0, 0, 0};
    }

    private static Object[] averageValues(Averages a) {
        return new Object[] {a.xactCount(), a.queryCount(), a.serverAssignmentCount(), 0, a.recv(), a.sent(),
                a.xactTime(), a.queryTime(), a.waitTime(), a.serverLifetime(), 0, 0, 0};
    }

    /** SHOW STATS: "total_received" and "avg_recv" are PgBouncer's names for the byte counts. */
    private static List<String> statsColumnNames(String prefix) {
        List<String> names = new ArrayList<>();
        for (String n : STAT_NAMES) {
            if (prefix.equals("avg_") && n.equals("server_closed_count")) {
                continue; // PgBouncer has no average of it
            }
            names.add(prefix + (prefix.equals("avg_") && n.equals("received") ? "recv" : n));
        }
        return names;
    }

    static List<Column> statsColumns() {
        List<Column> cols = new ArrayList<>();
        cols.add(text("database"));
        for (String n : statsColumnNames("total_")) {
            cols.add(numeric(n));
        }
        for (String n : statsColumnNames("avg_")) {
            cols.add(numeric(n));
        }
        return cols;
    }

    /** STATS_TOTALS and STATS_AVERAGES drop the prefix and call the byte counts bytes_received/bytes_sent. */
    static List<Column> statsSubsetColumns() {
        List<Column> cols = new ArrayList<>();
        cols.add(text("database"));
        for (String n : STAT_NAMES) {
            cols.add(numeric(n.equals("received") || n.equals("sent") ? "bytes_" + n : n));
        }
        return cols;
    }

    private static ResultTable stats(ConsoleContext ctx) {
        ResultTable t = new ResultTable(statsColumns());
        for (Map.Entry<String, Totals> e : totalsByDatabase(ctx).entrySet()) {
            List<Object> row = new ArrayList<>();
            row.add(e.getKey());
            row.addAll(List.of(totalValues(e.getValue())));
            Object[] avg = averageValues(ctx.averages().of(e.getKey()));
            for (int i = 0; i < avg.length; i++) {
                if (i != 3) { // no avg_server_closed_count
                    row.add(avg[i]);
                }
            }
            t.row(row.toArray());
        }
        return t;
    }

    private static ResultTable statsTotals(ConsoleContext ctx) {
        ResultTable t = new ResultTable(statsSubsetColumns());
        for (Map.Entry<String, Totals> e : totalsByDatabase(ctx).entrySet()) {
            t.row(prepend(e.getKey(), totalValues(e.getValue())));
        }
        return t;
    }

    private static ResultTable statsAverages(ConsoleContext ctx) {
        ResultTable t = new ResultTable(statsSubsetColumns());
        for (String db : totalsByDatabase(ctx).keySet()) {
            t.row(prepend(db, averageValues(ctx.averages().of(db))));
        }
        return t;
    }

    private static ResultTable totals(ConsoleContext ctx) {
        ResultTable t = ResultTable.of(text("name"), numeric("value"));
        Totals sum = Totals.ZERO;
        for (Totals s : totalsByDatabase(ctx).values()) {
            sum = sum.plus(s);
        }
        Object[] values = totalValues(sum);
        List<String> names = statsColumnNames("total_");
        for (int i = 0; i < names.size(); i++) {
            t.row(names.get(i), values[i]);
        }
        return t;
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] row = new Object[rest.length + 1];
        row[0] = first;
        System.arraycopy(rest, 0, row, 1, rest.length);
        return row;
    }

    // ---- databases, users, config, lists ----

    private static ResultTable databases(ConsoleContext ctx) {
        SluiceConfig cfg = ctx.config();
        Settings s = cfg.settings();
        List<PoolSnapshot> pools = ctx.pools().snapshot();
        Map<String, DatabaseConfig> shown = new LinkedHashMap<>();
        for (DatabaseConfig db : cfg.databases().values()) {
            if (!db.isFallback()) {
                shown.put(db.name(), db);
            }
        }
        for (PoolSnapshot p : pools) {
            // databases created from the "*" entry, and entries removed by RELOAD that still have clients
            shown.putIfAbsent(p.key().database(), p.pool().database());
        }
        Map<String, Integer> servers = new java.util.HashMap<>();
        for (PoolSnapshot p : pools) {
            servers.merge(p.key().database(), p.serverCount(), Integer::sum);
        }
        Map<String, Integer> clients = new java.util.HashMap<>();
        for (ClientSession c : ctx.clients()) {
            if (c.database() != null) {
                clients.merge(c.database(), 1, Integer::sum);
            }
        }
        ResultTable t = new ResultTable(DATABASES);
        t.row(CONSOLE_DB, null, s.listenPort(), CONSOLE_DB, CONSOLE_DB, 2, 0, 0, 0, "statement", null, 0, 0, 0,
                ctx.consoleSessions().size(), 0, 0);
        for (DatabaseConfig db : shown.values()) {
            t.row(db.name(), db.host(), db.port(), db.dbname() == null ? db.name() : db.dbname(), db.user(),
                    db.effectivePoolSize(s), db.effectiveMinPoolSize(s), db.effectiveReservePoolSize(s),
                    (int) s.serverLifetime().toSeconds(), db.poolMode() == null ? null : db.poolMode().configWord(),
                    null, db.effectiveMaxDbConnections(s), servers.getOrDefault(db.name(), 0), 0,
                    clients.getOrDefault(db.name(), 0), ctx.pools().isPaused(db.name()) ? 1 : 0,
                    ctx.pools().isDisabled(db.name()) ? 1 : 0);
        }
        return t;
    }

    static final List<Column> WORKLOADS = List.of(text("name"), text("match"), int4("reserve"), int4("max"),
            int4("in_use"), int4("waiting"), int4("clients"), int4("max_clients"), int4("priority"),
            text("breaker"), int8("refused_max_clients"), int8("refused_queue_timeout"), int8("shed_by_breaker"));

    /** Sluice: per workload its limits, what it holds now, and how often it was refused, by reason. */
    private static ResultTable workloads(ConsoleContext ctx) {
        Map<String, Integer> waiting = new java.util.HashMap<>();
        for (ClientSession c : ctx.clients()) {
            if (c.workload() != null && "waiting".equals(c.consoleState())) {
                waiting.merge(c.workload().name(), 1, Integer::sum);
            }
        }
        ResultTable t = new ResultTable(WORKLOADS);
        for (dev.sluice.guard.Workload w : ctx.pools().workloads().all()) {
            var c = w.config();
            t.row(w.name(), c.matches().isEmpty() ? "(rest)" : c.matches().toString(), c.reserve(), c.max(),
                    w.inUse(), waiting.getOrDefault(w.name(), 0), w.clients(), c.maxClients(), c.priority(),
                    w.breakerState(), w.refusedMaxClients(), w.refusedQueueTimeout(), w.shedByBreaker());
        }
        return t;
    }

    static final List<Column> ALERTS = List.of(text("name"), text("severity"), text("since"), text("summary"),
            text("culprit"));

    /** Sluice: alerts firing now, critical first (the same ones the log, the webhook and /metrics report). */
    private static ResultTable alerts(ConsoleContext ctx) {
        ResultTable t = new ResultTable(ALERTS);
        var engine = ctx.alerts();
        if (engine != null) {
            for (var a : engine.firing()) {
                t.row(a.name(), a.severity().label(), a.startsAt() == null ? null : TIME.format(a.startsAt()),
                        a.summary(), a.culprit());
            }
        }
        return t;
    }

    static final List<Column> LEAKS = List.of(text("workload"), text("application_name"), text("user"),
            text("addr"), int4("idle_connections"), int4("open_connections"), int8("oldest_idle_s"),
            int4("growth"), text("suspect_since"), text("last_statement"));

    /** Sluice: the sources whose idle client connections keep growing (leak suspects). */
    private static ResultTable leaks(ConsoleContext ctx) {
        ResultTable t = new ResultTable(LEAKS);
        for (var s : ctx.leakDetector().suspects()) {
            t.row(s.source().workload(), s.source().applicationName(), s.source().user(), s.source().address(),
                    s.idleConnections(), s.openConnections(), s.oldestIdleSeconds(), s.growthInWindow(),
                    TIME.format(java.time.Instant.ofEpochMilli(s.suspectSinceMillis())), s.lastStatement());
        }
        return t;
    }

    static final List<Column> BUDGET = List.of(text("server"), int4("max_connections"), int4("superuser_reserved"),
            int4("reserved"), int4("bypassing"), int4("headroom"), int4("budget"), int4("sluice_connections"),
            text("taken_at"), text("last_error"));

    /** Sluice: the database-wide budget read from each server (max_db_connections = auto). */
    private static ResultTable budget(ConsoleContext ctx) {
        ResultTable t = new ResultTable(BUDGET);
        for (var m : ctx.budgetMonitors()) {
            var s = m.snapshot();
            var c = s.capacity();
            t.row(s.server(), c == null ? null : c.maxConnections(), c == null ? null : c.superuserReserved(),
                    c == null ? null : c.reserved(), c == null ? null : c.bypassing(), c == null ? null : c.headroom(),
                    s.budget().isPresent() ? s.budget().getAsInt() : null, s.sluiceConnections(),
                    s.takenAt() == null ? null : TIME.format(s.takenAt()), s.lastError());
        }
        return t;
    }

    static final List<Column> BYPASS = List.of(text("server"), text("application_name"), text("user"),
            text("addr"), int4("connections"), text("oldest_backend_start"));

    /** Sluice: client backends on the server that do not come through Sluice, grouped. */
    private static ResultTable bypass(ConsoleContext ctx) {
        ResultTable t = new ResultTable(BYPASS);
        for (var m : ctx.budgetMonitors()) {
            var s = m.snapshot();
            for (var g : s.bypass()) {
                t.row(s.server(), g.applicationName(), g.user(), g.hidden() ? "hidden" : g.clientAddress(),
                        g.count(), g.oldestBackendStart() == null ? null : TIME.format(g.oldestBackendStart()));
            }
        }
        return t;
    }

    private static ResultTable users(ConsoleContext ctx) {
        SluiceConfig cfg = ctx.config();
        Set<String> names = new LinkedHashSet<>(cfg.authFile().keySet());
        names.addAll(cfg.users().keySet());
        List<PoolSnapshot> pools = ctx.pools().snapshot();
        Map<String, Integer> servers = new java.util.HashMap<>();
        for (PoolSnapshot p : pools) {
            names.add(p.key().user());
            servers.merge(p.key().user(), p.serverCount(), Integer::sum);
        }
        Map<String, Integer> clients = new java.util.HashMap<>();
        for (ClientSession c : ctx.clients()) {
            if (c.user() != null) {
                clients.merge(c.user(), 1, Integer::sum);
            }
        }
        ResultTable t = new ResultTable(USERS);
        for (String name : names) {
            UserConfig u = cfg.users().get(name);
            t.row(name, null, null, u == null || u.poolMode() == null ? null : u.poolMode().configWord(),
                    cfg.maxUserConnections(name), servers.getOrDefault(name, 0), 0, clients.getOrDefault(name, 0));
        }
        return t;
    }

    private static ResultTable config(ConsoleContext ctx) {
        ResultTable t = ResultTable.of(text("key"), text("value"), text("default"), text("changeable"));
        for (SettingsTable.Row r : SettingsTable.rows(ctx.config().settings())) {
            t.row(r.key(), r.value(), r.defaultValue(), r.changeable() ? "yes" : "no");
        }
        return t;
    }

    private static ResultTable lists(ConsoleContext ctx) {
        SluiceConfig cfg = ctx.config();
        List<PoolSnapshot> pools = ctx.pools().snapshot();
        Set<String> databases = new LinkedHashSet<>();
        for (DatabaseConfig db : cfg.databases().values()) {
            if (!db.isFallback()) {
                databases.add(db.name());
            }
        }
        Set<String> users = new LinkedHashSet<>(cfg.authFile().keySet());
        users.addAll(cfg.users().keySet());
        int servers = 0;
        for (PoolSnapshot p : pools) {
            databases.add(p.key().database());
            users.add(p.key().user());
            servers += p.idle().size() + p.active().size();
        }
        int used = ctx.consoleSessions().size();
        int login = 0;
        for (ClientSession c : ctx.clients()) {
            if (c.consoleState().equals("login")) {
                login++;
            } else {
                used++;
            }
        }
        ResultTable t = ResultTable.of(text("list"), int4("items"));
        t.row("databases", databases.size() + 1); // + the console's own database, as PgBouncer counts it
        t.row("users", users.size());
        t.row("pools", pools.size() + 1);
        t.row("free_clients", 0);
        t.row("used_clients", used);
        t.row("login_clients", login);
        t.row("free_servers", 0);
        t.row("used_servers", servers);
        t.row("dns_names", 0);
        t.row("dns_zones", 0);
        t.row("dns_queries", 0);
        t.row("dns_pending", 0);
        return t;
    }

    // ---- formatting ----

    private static long wall(long nanos, long nowNanos, long nowMillis) {
        return nowMillis - (nowNanos - nanos) / 1_000_000;
    }

    private static String time(long millis) {
        return TIME.format(Instant.ofEpochMilli(millis));
    }

    static String host(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return i.getAddress() == null ? i.getHostString() : i.getAddress().getHostAddress();
        }
        return a instanceof DomainSocketAddress ? "unix" : String.valueOf(a);
    }

    static int port(SocketAddress a) {
        return a instanceof InetSocketAddress i ? i.getPort() : 0;
    }
}
