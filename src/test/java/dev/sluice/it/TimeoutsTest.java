package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** idle_transaction_timeout, client_idle_timeout, query_timeout, and a client vanishing mid-query. */
class TimeoutsTest {
    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int idleInTransactionOnServer() throws SQLException {
        try (Connection d = Postgres.direct()) {
            return Integer.parseInt(one(d, "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"));
        }
    }

    @Test
    void idleTransactionTimeoutClosesTheClientAndRollsBack() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "idle_transaction_timeout = 1")) {
            Connection c = s.connect();
            c.setAutoCommit(false);
            one(c, "SELECT 1");
            assertThat(idleInTransactionOnServer()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(5)).until(() -> idleInTransactionOnServer() == 0);
            assertThatThrownBy(() -> one(c, "SELECT 2")).isInstanceOf(SQLException.class);
            c.close();
            // the single server was rolled back and reused, not lost
            try (Connection next = s.connect()) {
                assertThat(one(next, "SELECT 'ok'")).isEqualTo("ok");
            }
        }
    }

    @Test
    void clientIdleTimeoutClosesIdleClients() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "client_idle_timeout = 1")) {
            Connection c = s.connect();
            one(c, "SELECT 1");
            Thread.sleep(2500);
            assertThatThrownBy(() -> one(c, "SELECT 2")).isInstanceOf(SQLException.class);
            c.close();
        }
    }

    @Test
    void queryTimeoutClosesTheClientAndDoesNotReuseTheBusyServer() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "query_timeout = 1")) {
            try (Connection c = s.connect()) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> one(c, "SELECT pg_sleep(20)")).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            }
            try (Connection next = s.connect()) {
                assertThat(one(next, "SELECT 'fresh'")).isEqualTo("fresh");
            }
        }
    }

    @Test
    void aServerKilledWhileIdleIsReplacedWithoutAnErrorForTheClient() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "server_check_delay = 0\nserver_check_query = select 1")) {
            String pid;
            try (Connection c = s.connect()) {
                pid = one(c, "SELECT pg_backend_pid()::text");
            }
            // An administrator (or a crash) kills the idle server behind Sluice's back.
            try (Connection d = Postgres.direct()) {
                one(d, "SELECT pg_terminate_backend(" + pid + ")::text");
            }
            Thread.sleep(300);
            try (Connection c = s.connect()) {
                String now = one(c, "SELECT pg_backend_pid()::text");
                assertThat(now).isNotEqualTo(pid); // a fresh server, and no error for the client
            }
        }
    }

    @Test
    void clientVanishingMidQueryDoesNotPassItsBusyServerOn() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            Connection c = s.connect();
            Thread q = new Thread(() -> {
                try {
                    one(c, "SELECT pg_sleep(3)");
                } catch (SQLException expected) {
                    // the connection is aborted under it
                }
            });
            q.start();
            Thread.sleep(300);
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
            c.abort(ex);
            ex.shutdown();
            q.join(10_000);
            long t0 = System.nanoTime();
            try (Connection next = s.connect()) {
                assertThat(one(next, "SELECT 'next'")).isEqualTo("next");
            }
            // served by a new server at once, not after the old query finished
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(2500));
        }
    }
}
