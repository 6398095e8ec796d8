package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The admin console through real clients (pgjdbc in simple-query mode, psql): SHOW commands with
 * PgBouncer's documented columns, figures that move under load, who may log in and run what.
 */
class AdminConsoleTest {
    static final String ADMINS = "admin_users = admin\nstats_users = watcher\n";

    // Column lists as PgBouncer's documentation (usage.md, "Admin console") lists them.
    static final List<String> POOLS = List.of("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
            "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
            "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode", "load_balance_hosts");
    static final List<String> CLIENTS_AND_SERVERS = List.of("type", "user", "database", "replication", "state",
            "addr", "port", "local_addr", "local_port", "connect_time", "request_time", "wait", "wait_us",
            "close_needed", "ptr", "link", "remote_pid", "tls", "application_name", "prepared_statements", "id");
    static final List<String> STATS = List.of("database", "total_xact_count", "total_query_count",
            "total_server_assignment_count", "total_server_closed_count", "total_received", "total_sent",
            "total_xact_time", "total_query_time", "total_wait_time", "total_server_lifetime",
            "total_client_parse_count", "total_server_parse_count", "total_bind_count", "avg_xact_count",
            "avg_query_count", "avg_server_assignment_count", "avg_recv", "avg_sent", "avg_xact_time",
            "avg_query_time", "avg_wait_time", "avg_server_lifetime", "avg_client_parse_count",
            "avg_server_parse_count", "avg_bind_count");
    static final List<String> DATABASES = List.of("name", "host", "port", "database", "force_user", "pool_size",
            "min_pool_size", "reserve_pool_size", "server_lifetime", "pool_mode", "load_balance_hosts",
            "max_connections", "current_connections", "max_client_connections", "current_client_connections",
            "paused", "disabled");
    static final List<String> USERS = List.of("name", "pool_size", "reserve_pool_size", "pool_mode",
            "max_user_connections", "current_connections", "max_user_client_connections",
            "current_client_connections");
    static final List<String> CONFIG = List.of("key", "value", "default", "changeable");
    static final List<String> LISTS = List.of("databases", "users", "pools", "free_clients", "used_clients",
            "login_clients", "free_servers", "used_servers", "dns_names", "dns_zones", "dns_queries", "dns_pending");
    /** pgbouncer_exporter reads SHOW STATS_TOTALS by these names. */
    static final List<String> STATS_TOTALS = List.of("database", "xact_count", "query_count",
            "server_assignment_count", "server_closed_count", "bytes_received", "bytes_sent", "xact_time",
            "query_time", "wait_time", "server_lifetime", "client_parse_count", "server_parse_count", "bind_count");

    static Connection client(SluiceHandle s, String applicationName) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "0");
        p.setProperty("ApplicationName", applicationName);
        return s.connect("postgres", p);
    }

    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long num(Console.Result r, String keyColumn, String key, String column) {
        return Long.parseLong(r.row(keyColumn, key).get(column));
    }

    @Test
    void showCommandsHavePgBouncersColumnsAndTypes() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
             Connection app = client(s, "columns-app");
             Console console = Console.open(s, "admin", null)) {
            assertThat(one(app, "SELECT 1")).isEqualTo("1");

            Console.Result pools = console.query("SHOW POOLS");
            assertThat(pools.columns()).isEqualTo(POOLS);
            assertThat(pools.type("database")).isEqualTo("text");
            assertThat(pools.type("cl_active")).isEqualTo("int4");
            assertThat(pools.type("maxwait")).isEqualTo("int4");

            Console.Result clients = console.query("SHOW CLIENTS");
            // PgBouncer's columns first, then Sluice's own: pin_on_session_state's reason.
            assertThat(clients.columns().subList(0, CLIENTS_AND_SERVERS.size())).isEqualTo(CLIENTS_AND_SERVERS);
            assertThat(clients.columns()).hasSize(CLIENTS_AND_SERVERS.size() + 1).endsWith("pinned");
            assertThat(clients.type("port")).isEqualTo("int4");
            assertThat(clients.type("connect_time")).isEqualTo("text");
            assertThat(clients.type("id")).isEqualTo("int8");
            assertThat(console.query("SHOW SERVERS").columns()).isEqualTo(CLIENTS_AND_SERVERS);

            Console.Result stats = console.query("SHOW STATS");
            assertThat(stats.columns()).isEqualTo(STATS);
            assertThat(stats.type("total_xact_count")).isEqualTo("numeric");
            assertThat(console.query("SHOW STATS_TOTALS").columns()).isEqualTo(STATS_TOTALS);
            assertThat(console.query("SHOW STATS_AVERAGES").columns()).isEqualTo(STATS_TOTALS);
            assertThat(console.query("SHOW TOTALS").columns()).containsExactly("name", "value");

            Console.Result dbs = console.query("SHOW DATABASES");
            assertThat(dbs.columns()).isEqualTo(DATABASES);
            assertThat(dbs.row("name", "postgres").get("pool_size")).isEqualTo("2");
            assertThat(console.query("SHOW USERS").columns()).isEqualTo(USERS);

            Console.Result config = console.query("show config;"); // case and semicolon as psql users type it
            assertThat(config.columns()).isEqualTo(CONFIG);
            assertThat(config.row("key", "default_pool_size").get("value")).isEqualTo("2");
            assertThat(config.row("key", "default_pool_size").get("default")).isEqualTo("20");
            assertThat(config.row("key", "listen_port").get("changeable")).isEqualTo("no");
            // pgbouncer_exporter parses these two as numbers
            assertThat(config.row("key", "max_client_conn").get("value")).isEqualTo("100");
            assertThat(config.row("key", "max_user_connections").get("value")).isEqualTo("0");

            Console.Result lists = console.query("SHOW LISTS");
            assertThat(lists.columns()).containsExactly("list", "items");
            assertThat(lists.rows()).extracting(r -> r.get("list")).isEqualTo(LISTS);

            Console.Result version = console.query("SHOW VERSION");
            assertThat(version.columns()).containsExactly("version");
            assertThat(version.rows().get(0).get("version")).startsWith("Sluice");
        }
    }

    @Test
    void poolsClientsServersAndStatsFollowTheLoad() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS + "stats_period = 1\n");
             Console console = Console.open(s, "watcher", null);
             Connection app = client(s, "loadgen")) {
            for (int i = 0; i < 50; i++) {
                one(app, "SELECT " + i);
            }
            Console.Result stats = console.query("SHOW STATS");
            assertThat(num(stats, "database", "postgres", "total_xact_count")).isGreaterThanOrEqualTo(50);
            assertThat(num(stats, "database", "postgres", "total_query_count")).isGreaterThanOrEqualTo(50);
            assertThat(num(stats, "database", "postgres", "total_received")).isGreaterThan(50 * 10);
            assertThat(num(stats, "database", "postgres", "total_sent")).isGreaterThan(50 * 10);
            assertThat(num(stats, "database", "postgres", "total_query_time")).isPositive();
            assertThat(num(stats, "database", "postgres", "total_server_assignment_count")).isGreaterThanOrEqualTo(50);

            // A client inside a transaction: linked to a server, and the two rows point at each other.
            app.setAutoCommit(false);
            one(app, "SELECT 1");
            Console.Result clients = console.query("SHOW CLIENTS");
            var me = clients.row("application_name", "loadgen");
            assertThat(me.get("state")).isEqualTo("active");
            assertThat(me.get("user")).isEqualTo("postgres");
            assertThat(me.get("database")).isEqualTo("postgres");
            assertThat(me.get("addr")).isEqualTo("127.0.0.1");
            assertThat(me.get("ptr")).isEqualTo("C-" + me.get("id"));
            Console.Result servers = console.query("SHOW SERVERS");
            var linked = servers.row("link", me.get("ptr"));
            assertThat(linked.get("state")).isEqualTo("active");
            assertThat(linked.get("application_name")).isEqualTo("loadgen");
            assertThat(linked.get("port")).isEqualTo(String.valueOf(Postgres.port()));
            assertThat(me.get("link")).isEqualTo(linked.get("ptr"));
            assertThat(Integer.parseInt(linked.get("remote_pid"))).isEqualTo(Integer.parseInt(one(app,
                    "SELECT pg_backend_pid()")));
            Console.Result pools = console.query("SHOW POOLS");
            assertThat(num(pools, "user", "postgres", "sv_active")).isEqualTo(1);
            assertThat(num(pools, "user", "postgres", "cl_active")).isEqualTo(1);
            app.commit();
            app.setAutoCommit(true);
            // the server goes back to the pool right after the ReadyForQuery the driver waited for
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    num(console.query("SHOW POOLS"), "user", "postgres", "sv_idle") == 1);
            assertThat(console.query("SHOW CLIENTS").row("application_name", "loadgen").get("state")).isEqualTo("idle");

            // The averages are recomputed every stats_period (1 s here) from the change in the totals.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long avg = 0;
            while (avg == 0 && System.nanoTime() < deadline) {
                for (int i = 0; i < 20; i++) {
                    one(app, "SELECT 1");
                }
                avg = num(console.query("SHOW STATS_AVERAGES"), "database", "postgres", "query_count");
            }
            assertThat(avg).isPositive();
            assertThat(num(console.query("SHOW STATS_TOTALS"), "database", "postgres", "xact_count"))
                    .isGreaterThan(50);
            assertThat(Long.parseLong(console.query("SHOW TOTALS").row("name", "total_xact_count").get("value")))
                    .isGreaterThan(50);
        }
    }

    @Test
    void clientsWaitingForAServerShowInPoolsAndClients() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, ADMINS);
             Console console = Console.open(s, "admin", null);
             Connection holder = client(s, "holder");
             Connection waiter = client(s, "waiter")) {
            holder.setAutoCommit(false);
            one(holder, "SELECT 1");
            var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return one(waiter, "SELECT 'served'");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    num(console.query("SHOW POOLS"), "user", "postgres", "cl_waiting") == 1);
            var w = console.query("SHOW CLIENTS").row("application_name", "waiter");
            assertThat(w.get("state")).isEqualTo("waiting");
            Thread.sleep(1100);
            assertThat(num(console.query("SHOW POOLS"), "user", "postgres", "maxwait")).isGreaterThanOrEqualTo(1);
            holder.commit();
            assertThat(pending.get(5, TimeUnit.SECONDS)).isEqualTo("served");
            assertThat(num(console.query("SHOW STATS"), "database", "postgres", "total_wait_time"))
                    .isGreaterThan(1_000_000); // microseconds
        }
    }

    @Test
    void onlyAdminAndStatsUsersGetIn() throws Exception {
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}",
                "auth_type = md5\npool_mode = transaction\n" + ADMINS,
                "\"admin\" \"adminpass\"\n\"watcher\" \"watchpass\"\n\"appuser\" \"apppass\"\n")) {
            assertThatThrownBy(() -> Console.open(s, "appuser", "apppass"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("may not use the admin console");
                    });
            assertThatThrownBy(() -> Console.open(s, "admin", "wrong"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            try (Console admin = Console.open(s, "admin", "adminpass")) {
                assertThat(admin.query("SHOW VERSION").rows()).hasSize(1);
            }
            // "sluice" is an alias of the console database
            Properties p = new Properties();
            p.setProperty("user", "watcher");
            p.setProperty("password", "watchpass");
            p.setProperty("preferQueryMode", "simple");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + s.port() + "/sluice", p);
                 Statement st = c.createStatement()) {
                assertThat(st.executeQuery("SHOW POOLS").next()).isTrue();
                // stats_users may look but not touch
                assertThatThrownBy(() -> st.execute("PAUSE"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> {
                            assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("admin access needed");
                        });
                assertThatThrownBy(() -> st.execute("SET default_pool_size = 5"))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
                assertThat(st.executeQuery("SHOW CLIENTS").next()).isTrue(); // still usable after errors
            }
        }
    }

    @Test
    void errorsLeaveTheConsoleUsable() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
             Console console = Console.open(s, "admin", null)) {
            assertThatThrownBy(() -> console.run("SELECT 1"))
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("42601");
                        assertThat(e.getMessage()).contains("invalid command 'SELECT 1', use SHOW HELP;");
                    });
            assertThatThrownBy(() -> console.query("SHOW NOSUCH"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42601"));
            assertThatThrownBy(() -> console.run("PAUSE nosuchdb"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("no such database: nosuchdb"));
            assertThatThrownBy(() -> console.run("RESUME"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("not paused"));
            assertThat(console.query("SHOW VERSION").rows()).hasSize(1);
        }
    }

    @Test
    void extendedProtocolGetsAClearErrorAndTheConnectionSurvives() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS)) {
            Properties p = new Properties();
            p.setProperty("user", "admin");
            // default preferQueryMode=extended: Parse/Bind/Execute/Sync
            try (Connection c = DriverManager.getConnection(s.url("pgbouncer"), p)) {
                assertThatThrownBy(() -> one(c, "SHOW POOLS"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> {
                            assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000");
                            assertThat(e.getMessage()).contains("simple query protocol");
                        });
                assertThatThrownBy(() -> one(c, "SHOW POOLS")).isInstanceOf(SQLException.class);
                assertThat(c.isClosed()).isFalse();
            }
        }
    }

    @Test
    void psqlTalksToTheConsole() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS)) {
            String pools = psql(s.port(), "admin", "SHOW POOLS");
            assertThat(pools).contains("cl_active").contains("sv_idle").contains("pgbouncer");
            String help = psql(s.port(), "admin", "SHOW HELP");
            assertThat(help).contains("Console usage").contains("KILL_CLIENT");
            assertThat(psql(s.port(), "admin", "SHOW CLIENTS")).contains("psql"); // its own application_name
        }
    }

    static String psql(int port, String user, String command) throws Exception {
        Process p = new ProcessBuilder("psql", "-X", "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", user,
                "-d", "pgbouncer", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
