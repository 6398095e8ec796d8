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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** pool_size, query_wait_timeout, max_client_conn and max_db_connections, enforced and explained. */
class PoolLimitsTest {
    private static int one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Connection holdTransaction(SluiceHandle s) throws SQLException {
        Connection c = s.connect();
        c.setAutoCommit(false);
        one(c, "SELECT 1");
        return c;
    }

    @Test
    void queryWaitTimeoutAnswersWith53300AndTheConnectionStaysUsable() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "query_wait_timeout = 1")) {
            Connection h1 = holdTransaction(s);
            Connection h2 = holdTransaction(s);
            try (Connection c = s.connect()) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> one(c, "SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> {
                            assertThat(((SQLException) e).getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("query_wait_timeout").contains("pool_size");
                        });
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(waitedMs).isBetween(900L, 5000L);
                h1.commit();
                assertThat(one(c, "SELECT 3")).isEqualTo(3); // same client connection, now served
            } finally {
                h1.close();
                h2.close();
            }
        }
    }

    @Test
    void waitingClientsAreServedWhenAServerFreesUp() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "query_wait_timeout = 30")) {
            Connection holder = holdTransaction(s);
            List<CompletableFuture<Integer>> waiting = new ArrayList<>();
            List<Connection> conns = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Connection c = s.connect();
                conns.add(c);
                int n = i;
                waiting.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return one(c, "SELECT " + n);
                    } catch (SQLException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            Thread.sleep(300);
            assertThat(waiting).noneMatch(CompletableFuture::isDone);
            holder.commit();
            for (int i = 0; i < 5; i++) {
                assertThat(waiting.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(i);
            }
            holder.close();
            for (Connection c : conns) {
                c.close();
            }
        }
    }

    @Test
    void maxClientConnRefusesTheExtraClientAtLogin() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "max_client_conn = 3")) {
            List<Connection> conns = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                conns.add(s.connect());
            }
            assertThatThrownBy(s::connect)
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("53300");
                        assertThat(e.getMessage()).contains("too many clients");
                    });
            conns.get(0).close();
            Thread.sleep(200);
            try (Connection c = s.connect()) {
                assertThat(one(c, "SELECT 1")).isEqualTo(1);
            }
            for (Connection c : conns) {
                c.close();
            }
        }
    }

    @Test
    void maxDbConnectionsCapsServerConnectionsAcrossUsers() throws Exception {
        try (SluiceHandle s = SluiceHandle.start("postgres = host=127.0.0.1 port=${PGPORT} dbname=postgres",
                "auth_type = trust\npool_mode = transaction\ndefault_pool_size = 5\nmax_db_connections = 2\n"
                        + "query_wait_timeout = 2", "\"scramuser\" \"scrampass\"\n")) {
            try (Connection other = s.connect("postgres", "scramuser", null)) {
                assertThat(one(other, "SELECT 1")).isEqualTo(1); // its pool now has one idle server
                Connection h1 = holdTransaction(s);
                Connection h2 = holdTransaction(s); // the cap is reached: scramuser's idle server is evicted
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(serverConnections()).as(activity()).isLessThanOrEqualTo(2));
                assertThatThrownBy(() -> one(other, "SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
                h1.commit(); // frees a slot for the database: the other user's pool evicts it and opens its own
                assertThat(one(other, "SELECT 9")).isEqualTo(9);
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(serverConnections()).as(activity()).isLessThanOrEqualTo(2));
                h1.close();
                h2.close();
            }
        }
    }

    @Test
    void reservePoolServesAClientThatWaitedLongerThanReservePoolTimeout() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1,
                "reserve_pool_size = 1\nreserve_pool_timeout = 1\nquery_wait_timeout = 10")) {
            Connection holder = holdTransaction(s);
            try (Connection c = s.connect()) {
                long t0 = System.nanoTime();
                assertThat(one(c, "SELECT 5")).isEqualTo(5); // served by the reserve connection
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertThat(waitedMs).isBetween(900L, 4000L);
            } finally {
                holder.close();
            }
        }
    }

    @Test
    void minPoolSizeKeepsServersOpenAndServerIdleTimeoutClosesTheRest() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 4,
                "min_pool_size = 2\nserver_idle_timeout = 1")) {
            List<Connection> held = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                held.add(holdTransaction(s));
            }
            await().atMost(Duration.ofSeconds(15)).until(() -> serverConnections() == 4);
            for (Connection c : held) {
                c.commit();
                c.close();
            }
            // idle for over a second: closed down to min_pool_size, and kept there
            await().atMost(Duration.ofSeconds(15)).until(() -> serverConnections() == 2);
            Thread.sleep(2500);
            assertThat(serverConnections()).isEqualTo(2);
        }
    }

    private static String activity() throws SQLException {
        StringBuilder sb = new StringBuilder();
        try (Connection d = Postgres.direct(); Statement st = d.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid, usename, state, backend_start, client_port, query FROM pg_stat_activity"
                     + " WHERE datname = 'postgres' AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            while (rs.next()) {
                sb.append(rs.getString(1)).append(' ').append(rs.getString(2)).append(' ').append(rs.getString(3))
                        .append(' ').append(rs.getString(4)).append(" port=").append(rs.getString(5)).append(' ')
                        .append(rs.getString(6)).append('\n');
            }
        }
        return sb.toString();
    }

    /** Client backends PostgreSQL sees on database "postgres", other than this query's own. */
    private static int serverConnections() throws SQLException {
        try (Connection d = Postgres.direct()) {
            return one(d, "SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres'"
                    + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
        }
    }
}
