package dev.sluice.it;

import static dev.sluice.it.SessionStartupParametersTest.exec;
import static dev.sluice.it.SessionStartupParametersTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * pin_on_session_state = on (transaction mode): a client that creates session state Sluice cannot carry
 * keeps its server until it disconnects, so the state works across its transactions as on a direct
 * connection; SHOW CLIENTS says why; the server is reset and reused once the client goes. Clients that
 * only SET carried settings are not pinned.
 */
class PinOnSessionStateTest {
    private static final String SETTINGS = "admin_users = admin\npin_on_session_state = on\n";

    private static Connection client(SluiceHandle s, String app) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        return s.connect("postgres", p);
    }

    @Test
    void aTempTableSurvivesAcrossTransactionsAndShowClientsSaysPinned() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, SETTINGS);
             Console console = Console.open(s, "admin", null)) {
            String pinnedPid;
            try (Connection a = client(s, "pinned-temp"); Connection b = client(s, "unpinned")) {
                exec(a, "CREATE TEMP TABLE pin_tmp (x int)");
                pinnedPid = one(a, "SELECT pg_backend_pid()::text");
                for (int i = 0; i < 5; i++) {
                    exec(a, "INSERT INTO pin_tmp VALUES (" + i + ")");
                    exec(b, "SET statement_timeout = '3s'"); // carried: does not pin
                    assertThat(one(b, "SELECT count(*)::text FROM pg_class WHERE relname = 'pin_tmp' AND pg_table_is_visible(oid)")).isEqualTo("0");
                }
                assertThat(one(a, "SELECT count(*)::text FROM pin_tmp")).isEqualTo("5");
                assertThat(one(a, "SELECT pg_backend_pid()::text")).isEqualTo(pinnedPid);

                Console.Result clients = console.query("SHOW CLIENTS");
                assertThat(clients.columns()).endsWith("pinned");
                var row = clients.row("application_name", "pinned-temp");
                assertThat(row.get("pinned")).isEqualTo("temp_table");
                assertThat(row.get("link")).isNotEmpty(); // holds its server while idle
                assertThat(clients.row("application_name", "unpinned").get("pinned")).isEmpty();
                await().atMost(Duration.ofSeconds(10)).until(() -> console.query("SHOW CLIENTS")
                        .row("application_name", "unpinned").get("link").isEmpty());
            }
            // The pinned client left: its server was reset (DISCARD ALL) and went back to the pool.
            await().atMost(Duration.ofSeconds(10)).until(() -> console.query("SHOW SERVERS").rows().stream()
                    .anyMatch(r -> r.get("remote_pid").equals(pinnedPid) && r.get("state").equals("idle")));
            try (Connection c = client(s, "after"); Connection d = client(s, "after-2")) {
                d.setAutoCommit(false);
                one(d, "SELECT 1"); // holds the other server, so c gets the one the pinned client had
                assertThat(one(c, "SELECT pg_backend_pid()::text")).isEqualTo(pinnedPid);
                assertThat(one(c, "SELECT count(*)::text FROM pg_class WHERE relname = 'pin_tmp' AND pg_table_is_visible(oid)")).isEqualTo("0");
                d.rollback();
            }
        }
    }

    @Test
    void listenKeepsReceivingNotificationsAndAdvisoryLocksStayHeld() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 3, SETTINGS + "stats_listen = 127.0.0.1:0\n");
             Console console = Console.open(s, "admin", null);
             Connection listener = client(s, "listener");
             Connection locker = client(s, "locker");
             Connection other = client(s, "notifier")) {
            exec(listener, "LISTEN pin_channel");
            one(locker, "SELECT pg_advisory_lock(777)::text");
            exec(other, "NOTIFY pin_channel, 'hello'");
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                one(listener, "SELECT 1"); // pgjdbc reads notifications with the next reply
                PGNotification[] n = listener.unwrap(PGConnection.class).getNotifications();
                return n != null && n.length == 1 && n[0].getParameter().equals("hello");
            });
            Console.Result clients = console.query("SHOW CLIENTS");
            assertThat(clients.row("application_name", "listener").get("pinned")).isEqualTo("listen");
            assertThat(clients.row("application_name", "locker").get("pinned")).isEqualTo("advisory_lock");
            assertThat(clients.row("application_name", "notifier").get("pinned")).isEmpty();
            assertThat(one(locker, "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' "
                    + "AND pid = pg_backend_pid()")).isEqualTo("1");
            // Detected from the text, so trying for the lock pins too (it could have taken it).
            assertThat(one(other, "SELECT pg_try_advisory_lock(777)::text")).isEqualTo("false");
            Scrape.Metrics m = Scrape.metrics(s.server().statsPort());
            assertThat(m.value("sluice_client_pins_total", "database", "postgres", "reason", "listen")).isEqualTo(1.0);
            assertThat(m.value("sluice_client_pins_total", "database", "postgres", "reason", "advisory_lock"))
                    .isEqualTo(2.0);
        }
    }

    @Test
    void withoutPinningTheSameStateIsResetAfterEachTransaction() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "admin_users = admin\n");
             Console console = Console.open(s, "admin", null);
             Connection a = client(s, "not-pinned")) {
            exec(a, "CREATE TEMP TABLE unpinned_tmp (x int)");
            assertThat(one(a, "SELECT count(*)::text FROM pg_class WHERE relname = 'unpinned_tmp' AND pg_table_is_visible(oid)")).isEqualTo("0");
            // The server goes back right after the ReadyForQuery is flushed to the client: wait for that.
            await().atMost(Duration.ofSeconds(10)).until(() -> console.query("SHOW CLIENTS")
                    .row("application_name", "not-pinned").get("link").isEmpty());
            assertThat(console.query("SHOW CLIENTS").row("application_name", "not-pinned").get("pinned")).isEmpty();
        }
    }
}
