package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A PostgreSQL that stops answering without closing anything (SIGSTOP of the postmaster or of one
 * backend: the sockets stay open, nothing comes back). server_connect_timeout bounds new connections,
 * query_timeout bounds queries, Sluice's own statements (ROLLBACK after a client left, server_check_query)
 * included; a hung server is closed and never handed to another client; clients get a clear error.
 */
class HungServerTest {
    private static final String DB = "faultdb";
    private static OwnPostgres pg;
    /** Processes this test stopped: resumed after each test whatever happened. */
    private final List<Long> stopped = new ArrayList<>();

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = OwnPostgres.start();
        try (Connection d = pg.direct()) {
            PoolHealth.createDatabase(d, DB);
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void resume() throws Exception {
        for (long pid : stopped) {
            OwnPostgres.signal(pid, "CONT");
        }
        stopped.clear();
    }

    private void stop(long pid) throws Exception {
        stopped.add(pid);
        OwnPostgres.signal(pid, "STOP");
    }

    private SluiceHandle sluice(String mode, String extra) throws Exception {
        return SluiceHandle.start(DB + " = " + pg.connString() + " dbname=" + DB,
                "auth_type = trust\npool_mode = " + mode + "\ndefault_pool_size = 1\nserver_login_retry = 1\n"
                        + "admin_users = admin\n" + extra, null);
    }

    private static Connection client(SluiceHandle s) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "0");
        p.setProperty("socketTimeout", "30"); // only so that a bug fails the test instead of hanging it
        return s.connect(DB, p);
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void serverConnectTimeoutBoundsTheLoginToAPostmasterThatDoesNotAnswer() throws Exception {
        try (SluiceHandle s = sluice("transaction", "server_connect_timeout = 1")) {
            stop(pg.postmasterPid()); // TCP connects still succeed (the kernel's backlog); no login reply ever comes
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> client(s).close()).isInstanceOf(SQLException.class).satisfies(e -> {
                assertThat(((SQLException) e).getSQLState()).isEqualTo("08006");
                assertThat(e.getMessage()).contains("server_connect_timeout");
            });
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
            resume();
            // Once PostgreSQL answers again, so does Sluice (after server_login_retry).
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
                try (Connection c = client(s)) {
                    assertThat(backendPid(c)).isPositive();
                }
            });
        }
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"transaction", "session"})
    void queryTimeoutClosesAHungServerAndTheNextClientGetsAFreshOne(String mode) throws Exception {
        try (SluiceHandle s = sluice(mode, "query_timeout = 1.5");
             Console console = Console.open(s, "admin", null)) {
            int hung;
            try (Connection a = client(s)) {
                a.setAutoCommit(false);
                hung = backendPid(a);
                stop(hung);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> backendPid(a)).isInstanceOf(SQLException.class).satisfies(e -> {
                    assertThat(((SQLException) e).getSQLState()).isEqualTo("57014");
                    assertThat(e.getMessage()).contains("query_timeout");
                });
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            }
            // pool_size = 1: the next client is served only if the hung server's slot was given up.
            try (Connection b = client(s)) {
                assertThat(backendPid(b)).isNotEqualTo(hung);
            }
            assertThat(PoolHealth.serverPids(console, DB)).doesNotContain(hung);
            resume(); // the backend wakes up to a closed socket (and a cancel) and exits
            PoolHealth.awaitIdle(console, pg::direct, DB, Duration.ofSeconds(10));
        }
    }

    @Test
    void aServerThatHangsDuringTheRollbackAfterItsClientLeftIsClosedNotKeptLeased() throws Exception {
        try (SluiceHandle s = sluice("transaction", "query_timeout = 1.5");
             Console console = Console.open(s, "admin", null)) {
            Connection a = client(s);
            a.setAutoCommit(false);
            int hung = backendPid(a);
            stop(hung);
            // The client vanishes idle in transaction: Sluice sends ROLLBACK to a server that never answers.
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
            a.abort(ex);
            ex.shutdown();
            long t0 = System.nanoTime();
            try (Connection b = client(s)) {
                assertThat(backendPid(b)).isNotEqualTo(hung);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
            assertThat(PoolHealth.serverPids(console, DB)).doesNotContain(hung);
            resume();
            PoolHealth.awaitIdle(console, pg::direct, DB, Duration.ofSeconds(10));
        }
    }

    @Test
    void aServerThatHangsWhileSluiceAppliesTheClientsSettingsIsReplacedWithoutFailingTheClient() throws Exception {
        try (SluiceHandle s = sluice("transaction", "query_timeout = 1.5");
             Console console = Console.open(s, "admin", null)) {
            int hung;
            try (Connection a = client(s)) {
                hung = backendPid(a); // the one server now carries a's application_name
            }
            stop(hung);
            Properties p = new Properties();
            p.setProperty("user", "postgres");
            p.setProperty("ApplicationName", "other-app"); // leasing the server means SET application_name first
            p.setProperty("socketTimeout", "30");
            long t0 = System.nanoTime();
            try (Connection b = s.connect(DB, p)) {
                assertThat(backendPid(b)).isNotEqualTo(hung);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
            assertThat(PoolHealth.serverPids(console, DB)).doesNotContain(hung);
            resume();
            PoolHealth.awaitIdle(console, pg::direct, DB, Duration.ofSeconds(10));
        }
    }

    @Test
    void anIdleServerThatHungFailsServerCheckQueryAndAnotherIsUsed() throws Exception {
        try (SluiceHandle s = sluice("transaction", "query_timeout = 1.5\nserver_check_delay = 0");
             Console console = Console.open(s, "admin", null)) {
            int hung;
            try (Connection a = client(s)) {
                hung = backendPid(a);
            }
            stop(hung); // idle in the pool now; the next lease runs server_check_query on it first
            long t0 = System.nanoTime();
            try (Connection b = client(s)) {
                assertThat(backendPid(b)).isNotEqualTo(hung);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
            assertThat(PoolHealth.serverPids(console, DB)).doesNotContain(hung);
            resume();
            PoolHealth.awaitIdle(console, pg::direct, DB, Duration.ofSeconds(10));
        }
    }
}
