package dev.sluice.it;

import static dev.sluice.it.AdminConsoleTest.ADMINS;
import static dev.sluice.it.AdminConsoleTest.client;
import static dev.sluice.it.AdminConsoleTest.num;
import static dev.sluice.it.AdminConsoleTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The console's process-controlling commands: PAUSE/RESUME, KILL, KILL_CLIENT, DISABLE/ENABLE, RECONNECT, SET. */
class ConsoleControlTest {

    private static CompletableFuture<String> async(Connection c, String sql) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return one(c, sql);
            } catch (SQLException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static CompletableFuture<Void> asyncRun(Console console, String sql) {
        return CompletableFuture.runAsync(() -> {
            try {
                console.run(sql);
            } catch (SQLException e) {
                throw new RuntimeException(e);
            }
        });
    }

    private static int backendsOnServer() throws SQLException {
        try (Connection d = Postgres.direct()) {
            return Integer.parseInt(one(d, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'postgres' "
                    + "AND application_name <> 'console-test' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"));
        }
    }

    @Test
    void pauseWaitsForTransactionsThenHoldsClientsUntilResume() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS + "query_wait_timeout = 30\n");
             Console console = Console.open(s, "admin", null);
             Console observer = Console.open(s, "admin", null);
             Connection inTx = client(s, "in-tx");
             Connection later = client(s, "later")) {
            inTx.setAutoCommit(false);
            one(inTx, "SELECT 1");
            assertThat(one(later, "SELECT 1")).isEqualTo("1"); // leaves an idle server behind

            CompletableFuture<Void> pause = asyncRun(console, "PAUSE postgres");
            // PAUSE returns only once no server of the database is left: the open transaction holds it.
            Thread.sleep(500);
            assertThat(pause).isNotDone();
            // (the console that sent PAUSE is busy until it completes, as PgBouncer's would be)
            assertThat(num(observer.query("SHOW POOLS"), "user", "postgres", "sv_idle")).isZero(); // idle one closed
            assertThat(one(inTx, "SELECT 2")).isEqualTo("2"); // the transaction itself carries on
            inTx.commit();
            pause.get(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(5)).until(() -> backendsOnServer() == 0);
            assertThat(console.query("SHOW DATABASES").row("name", "postgres").get("paused")).isEqualTo("1");

            // While paused, clients wait for a server instead of failing.
            CompletableFuture<String> waiting = async(later, "SELECT 'after resume'");
            Thread.sleep(500);
            assertThat(waiting).isNotDone();
            assertThat(num(console.query("SHOW POOLS"), "user", "postgres", "cl_waiting")).isEqualTo(1);
            console.run("RESUME postgres");
            assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("after resume");
            assertThat(one(inTx, "SELECT 3")).isEqualTo("3");
            inTx.commit();
            assertThatThrownBy(() -> console.run("RESUME postgres"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55000"));
        }
    }

    @Test
    void pauseWithoutDatabasePausesEverything() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS + "query_wait_timeout = 30\n");
             Console console = Console.open(s, "admin", null);
             Connection c = client(s, "app")) {
            one(c, "SELECT 1");
            console.run("PAUSE");
            assertThatThrownBy(() -> console.run("PAUSE"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("already paused"));
            CompletableFuture<String> waiting = async(c, "SELECT 'resumed'");
            Thread.sleep(300);
            assertThat(waiting).isNotDone();
            console.run("RESUME");
            assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("resumed");
        }
    }

    @Test
    void killClientClosesThatClientAndItsServerOnly() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
             Console console = Console.open(s, "admin", null);
             Connection victim = client(s, "victim");
             Connection bystander = client(s, "bystander")) {
            victim.setAutoCommit(false);
            int victimPid = Integer.parseInt(one(victim, "SELECT pg_backend_pid()"));
            one(bystander, "SELECT 1");
            String id = console.query("SHOW CLIENTS").row("application_name", "victim").get("id");

            console.run("KILL_CLIENT " + id);
            assertThatThrownBy(() -> one(victim, "SELECT 1"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(e.getMessage()).contains("KILL_CLIENT"));
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                try (Connection d = Postgres.direct()) {
                    return one(d, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + victimPid).equals("0");
                }
            });
            assertThat(one(bystander, "SELECT 'still here'")).isEqualTo("still here");
            assertThat(console.query("SHOW CLIENTS").rows()).noneMatch(r -> "victim".equals(r.get("application_name")));
            assertThatThrownBy(() -> console.run("KILL_CLIENT 999999"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("no client with id 999999"));
        }
    }

    @Test
    void killDropsTheDatabasesClientsAndHoldsNewOnesUntilResume() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS + "query_wait_timeout = 30\n");
             Console console = Console.open(s, "admin", null)) {
            Connection a = client(s, "a");
            Connection b = client(s, "b");
            a.setAutoCommit(false);
            one(a, "SELECT 1");
            one(b, "SELECT 1");
            console.run("KILL postgres");
            // KILL answers once the clients are gone, not when their closing has merely been scheduled.
            assertThat(console.query("SHOW CLIENTS").rows())
                    .noneMatch(r -> "a".equals(r.get("application_name")) || "b".equals(r.get("application_name")));
            assertThatThrownBy(() -> one(a, "SELECT 1")).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> one(b, "SELECT 1")).isInstanceOf(SQLException.class);
            await().atMost(Duration.ofSeconds(5)).until(() -> backendsOnServer() == 0);
            try (Connection fresh = client(s, "fresh")) {
                CompletableFuture<String> waiting = async(fresh, "SELECT 'back'");
                Thread.sleep(300);
                assertThat(waiting).isNotDone();
                console.run("RESUME postgres");
                assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("back");
            }
            a.close();
            b.close();
        }
    }

    @Test
    void disableRefusesNewLoginsOnlyUntilEnable() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
             Console console = Console.open(s, "admin", null);
             Connection connected = client(s, "connected")) {
            console.run("DISABLE postgres");
            assertThatThrownBy(() -> client(s, "new"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("57P03");
                        assertThat(e.getMessage()).contains("disabled");
                    });
            assertThat(one(connected, "SELECT 'unaffected'")).isEqualTo("unaffected");
            assertThat(console.query("SHOW DATABASES").row("name", "postgres").get("disabled")).isEqualTo("1");
            console.run("ENABLE postgres");
            try (Connection c = client(s, "new")) {
                assertThat(one(c, "SELECT 1")).isEqualTo("1");
            }
            assertThatThrownBy(() -> console.run("DISABLE"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("a database is required"));
        }
    }

    @Test
    void reconnectReplacesServersAsTheyAreReleased() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
             Console console = Console.open(s, "admin", null);
             Connection c = client(s, "app")) {
            c.setAutoCommit(false);
            String before = one(c, "SELECT pg_backend_pid()");
            console.run("RECONNECT postgres");
            var server = console.query("SHOW SERVERS").row("state", "active");
            assertThat(server.get("close_needed")).isEqualTo("1");
            assertThat(one(c, "SELECT pg_backend_pid()")).isEqualTo(before); // not in the middle of a transaction
            c.commit();
            console.run("WAIT_CLOSE postgres");
            assertThat(one(c, "SELECT pg_backend_pid()")).isNotEqualTo(before);
            c.commit();
        }
    }

    @Test
    void setChangesSettingsAtRunTimeValidatedLikeTheFile() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, ADMINS + "query_wait_timeout = 30\n");
             Console console = Console.open(s, "admin", null);
             Connection holder = client(s, "holder");
             Connection other = client(s, "other")) {
            holder.setAutoCommit(false);
            one(holder, "SELECT 1");
            CompletableFuture<String> waiting = async(other, "SELECT 'served'");
            Thread.sleep(300);
            assertThat(waiting).isNotDone();
            // A larger pool applies to the existing pool at once: the waiting client is served.
            console.run("SET default_pool_size = 2");
            assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo("served");
            assertThat(console.query("SHOW CONFIG").row("key", "default_pool_size").get("value")).isEqualTo("2");
            assertThat(console.query("SHOW DATABASES").row("name", "postgres").get("pool_size")).isEqualTo("2");

            console.run("SET query_wait_timeout = '5s'");
            assertThat(console.query("SHOW CONFIG").row("key", "query_wait_timeout").get("value")).isEqualTo("5");
            console.run("set log_connections to 0;");
            assertThat(console.query("SHOW CONFIG").row("key", "log_connections").get("value")).isEqualTo("0");

            assertThatThrownBy(() -> console.run("SET default_pool_size = lots"))
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("22023");
                        assertThat(e.getMessage()).contains("default_pool_size").contains("not a whole number");
                    });
            assertThatThrownBy(() -> console.run("SET default_pool_sise = 3"))
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("42704");
                        assertThat(e.getMessage()).contains("did you mean 'default_pool_size'");
                    });
            assertThatThrownBy(() -> console.run("SET listen_port = 7000"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("restart"));
            assertThatThrownBy(() -> console.run("SET min_pool_size = 10"))
                    .satisfies(e -> assertThat(e.getMessage()).contains("larger than default_pool_size"));
            assertThat(console.query("SHOW CONFIG").row("key", "default_pool_size").get("value")).isEqualTo("2");
            holder.commit();
        }
    }
}
