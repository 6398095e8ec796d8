package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * PostgreSQL restarted (pg_ctl stop -m fast) or crashed (SIGKILL to the postmaster) under load from
 * several pgjdbc clients, in both pool modes: clients see connection-class errors (08xxx, 57Pxx) promptly
 * and never hang; Sluice reconnects by itself; the pool returns to idle with only servers of the new
 * postmaster; every client's transactions succeed again.
 */
class PostgresRestartTest {
    private static final String DB = "faultdb";
    /** No operation may take longer than this: a client stuck on a dead server would. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(10);

    private static OwnPostgres pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = OwnPostgres.start();
        try (Connection d = pg.direct()) {
            PoolHealth.createDatabase(d, DB);
        }
        try (Connection d = java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + DB + "?user=postgres");
             Statement st = d.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS fault_load (client int, at timestamptz DEFAULT now())");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @ParameterizedTest(name = "{0} mode, {1}")
    @CsvSource({"transaction, restart", "transaction, sigkill", "session, restart", "session, sigkill"})
    void clientsGetConnectionErrorsAndSluiceRecoversByItself(String mode, String fault) throws Exception {
        int clients = 6;
        try (SluiceHandle s = SluiceHandle.start(DB + " = " + pg.connString() + " dbname=" + DB,
                "auth_type = trust\npool_mode = " + mode + "\ndefault_pool_size = " + clients + "\n"
                        + "server_login_retry = 1\nadmin_users = admin\n", null);
             Console console = Console.open(s, "admin", null)) {
            FaultLoad load = new FaultLoad(s.url(DB), clients);
            long recoveredAt;
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> load.everyClientSucceededSince(0));
                long before = load.successes.get();
                if (fault.equals("restart")) {
                    pg.restart();
                } else {
                    pg.killAndRestart();
                }
                recoveredAt = System.nanoTime();
                // Every client gets back to work on its own (reconnecting where its connection was lost).
                await().atMost(Duration.ofSeconds(20)).until(() -> load.everyClientSucceededSince(recoveredAt));
                assertThat(load.successes.get()).isGreaterThan(before);
            } finally {
                load.close();
            }
            // The fault hit work in flight; what the clients saw says "connection lost / server going away".
            assertThat(load.failures).as("errors seen by clients").isNotEmpty();
            assertThat(load.unexpectedFailures()).as("errors other than 08xxx/57Pxx").isEmpty();
            assertThat(Duration.ofNanos(load.slowestOpNanos.get())).as("slowest operation").isLessThan(HANG_LIMIT);
            PoolHealth.awaitIdle(console, pg::direct, DB, Duration.ofSeconds(10));
            try (Connection c = s.connect(DB, "postgres", null); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_postmaster_start_time() > now() - interval '1 minute'")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("served by the restarted server").isTrue();
            }
        }
    }
}
