package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One server connection (pool_size = 1) passed from client to client: what one client leaves behind
 * (SET, temp table, an open transaction of a client that vanished) must never be seen by the next.
 */
class IsolationTest {
    @BeforeAll
    static void table() throws Exception {
        try (Connection c = Postgres.direct(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS iso_t");
            st.execute("CREATE TABLE iso_t (v text)");
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void sessionModeResetsSettingsAndTempTablesBetweenClients() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("session", 1, "")) {
            String pidA;
            try (Connection a = s.connect()) {
                pidA = one(a, "SELECT pg_backend_pid()::text");
                try (Statement st = a.createStatement()) {
                    st.execute("SET statement_timeout = '4321s'");
                    st.execute("CREATE TEMP TABLE secret_of_a (x int)");
                    st.execute("SET search_path = pg_catalog");
                }
            }
            try (Connection b = s.connect()) {
                assertThat(one(b, "SELECT pg_backend_pid()::text")).isEqualTo(pidA); // same server reused
                assertThat(one(b, "SHOW statement_timeout")).isEqualTo("0");
                assertThat(one(b, "SHOW search_path")).isEqualTo("\"$user\", public");
                assertThat(one(b, "SELECT count(*)::text FROM pg_class WHERE relname = 'secret_of_a'")).isEqualTo("0");
            }
        }
    }

    @Test
    void transactionModeRollsBackTheOpenTransactionOfAVanishedClient() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            Connection a = s.connect();
            a.setAutoCommit(false);
            try (Statement st = a.createStatement()) {
                st.execute("INSERT INTO iso_t VALUES ('uncommitted of a')");
            }
            String pidA = one(a, "SELECT pg_backend_pid()::text");
            // The client vanishes mid-transaction (no COMMIT, no Terminate): kill its socket.
            a.unwrap(org.postgresql.PGConnection.class);
            abort(a);
            try (Connection b = s.connect()) {
                assertThat(one(b, "SELECT pg_backend_pid()::text")).isEqualTo(pidA);
                assertThat(one(b, "SELECT count(*)::text FROM iso_t")).isEqualTo("0");
                // and b is not inside a's transaction: its own statements commit
                try (Statement st = b.createStatement()) {
                    st.execute("INSERT INTO iso_t VALUES ('b')");
                }
            }
            try (Connection d = Postgres.direct()) {
                assertThat(one(d, "SELECT string_agg(v, ',') FROM iso_t")).isEqualTo("b");
                await().atMost(Duration.ofSeconds(5)).until(() -> "0".equals(one(d,
                        "SELECT count(*)::text FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")));
            }
        }
    }

    @Test
    void transactionModeGivesEachClientItsOwnStartupSettings() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            Properties pa = new Properties();
            pa.setProperty("user", "postgres");
            pa.setProperty("ApplicationName", "client-a");
            pa.setProperty("options", "-c IntervalStyle=iso_8601");
            Properties pb = new Properties();
            pb.setProperty("user", "postgres");
            pb.setProperty("ApplicationName", "client-b");
            pb.setProperty("options", "-c statement_timeout=7s");
            try (Connection a = s.connect("postgres", pa); Connection b = s.connect("postgres", pb)) {
                for (int i = 0; i < 3; i++) {
                    assertThat(one(a, "SELECT current_setting('application_name')")).isEqualTo("client-a");
                    assertThat(one(a, "SHOW IntervalStyle")).isEqualTo("iso_8601");
                    assertThat(one(a, "SHOW statement_timeout")).isEqualTo("0");
                    assertThat(one(b, "SELECT current_setting('application_name')")).isEqualTo("client-b");
                    assertThat(one(b, "SHOW statement_timeout")).isEqualTo("7s");
                    assertThat(one(b, "SHOW IntervalStyle")).isEqualTo("postgres");
                }
            }
        }
    }

    private static void abort(Connection c) throws Exception {
        // Connection.abort closes the socket without sending Terminate: like a crashed process.
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
        c.abort(ex);
        ex.shutdown();
        ex.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
}
