package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Protocol-level named prepared statements in transaction mode, with more clients than servers: every
 * statement must exist on whichever server runs the next Bind, and results must be right.
 */
class PreparedStatementsTest {
    static SluiceHandle sluice;
    static SluiceHandle tinyCache;

    @BeforeAll
    static void start() throws Exception {
        sluice = SluiceHandle.trust("transaction", 2, "");
        tinyCache = SluiceHandle.trust("transaction", 2, "max_prepared_statements = 2");
        try (Connection c = Postgres.direct(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS ps_t");
            st.execute("CREATE TABLE ps_t (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO ps_t SELECT g, 'v' || g FROM generate_series(1, 100) g");
        }
    }

    @AfterAll
    static void stop() {
        sluice.close();
        tinyCache.close();
    }

    /** pgjdbc switched to named server-side statements from the first execution. */
    static Connection prepared(SluiceHandle s, int cacheQueries) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "1");
        p.setProperty("preparedStatementCacheQueries", String.valueOf(cacheQueries));
        return s.connect("postgres", p);
    }

    private static void runClients(SluiceHandle s, int clients, int cacheQueries, int rounds) throws Exception {
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            int seed = t;
            Thread th = new Thread(() -> {
                try (Connection c = prepared(s, cacheQueries)) {
                    for (int i = 0; i < rounds; i++) {
                        int id = 1 + (seed * 31 + i) % 100;
                        // several distinct statements so the caches churn
                        try (PreparedStatement ps = c.prepareStatement("SELECT v FROM ps_t WHERE id = ?")) {
                            ps.setInt(1, id);
                            try (ResultSet rs = ps.executeQuery()) {
                                assertThat(rs.next()).isTrue();
                                assertThat(rs.getString(1)).isEqualTo("v" + id);
                            }
                        }
                        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + " + (i % 4))) {
                            ps.setInt(1, id);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                assertThat(rs.getInt(1)).isEqualTo(id + i % 4);
                            }
                        }
                        c.setAutoCommit(false);
                        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM ps_t WHERE id <= ?")) {
                            ps.setInt(1, id);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                assertThat(rs.getInt(1)).isEqualTo(id);
                            }
                        }
                        c.commit();
                        c.setAutoCommit(true);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join(120_000);
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " client(s) failed; first: " + failures.get(0), failures.get(0));
        }
    }

    @Test
    void namedStatementsWorkWithMoreClientsThanServers() throws Exception {
        runClients(sluice, 8, 256, 60);
    }

    @Test
    void clientsClosingStatementsAndServerCacheEvictionsStayCorrect() throws Exception {
        // pgjdbc's cache of 2 closes statements (Close 'S'); Sluice's server cache of 2 evicts them too.
        runClients(tinyCache, 6, 2, 40);
    }

    @Test
    void errorInsideAPipelineOfNamedStatementsIsRecovered() throws Exception {
        try (Connection c = prepared(sluice, 256)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO ps_t VALUES (?, ?)")) {
                ps.setInt(1, 5000);
                ps.setString(2, "x");
                ps.addBatch();
                ps.setInt(1, 1); // duplicate: fails mid-batch
                ps.setString(2, "y");
                ps.addBatch();
                ps.setInt(1, 5001);
                ps.setString(2, "z");
                ps.addBatch();
                assertThatThrownBy(ps::executeBatch).isInstanceOf(java.sql.BatchUpdateException.class);
            }
            c.rollback();
            // the same named statement is usable again, on whatever server comes next
            for (int i = 0; i < 5; i++) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO ps_t VALUES (?, ?)")) {
                    ps.setInt(1, 6000 + i);
                    ps.setString(2, "ok");
                    assertThat(ps.executeUpdate()).isEqualTo(1);
                }
                c.commit();
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM ps_t WHERE id >= 5000")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(5);
            }
            c.commit();
        }
    }

    @Test
    void deallocateAllForgetsTheClientsStatements() throws Exception {
        try (Connection c = prepared(sluice, 256)) {
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::text")) {
                ps.setString(1, "a");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("a");
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("DEALLOCATE ALL");
            }
            // pgjdbc notices DEALLOCATE ALL and re-prepares
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::text")) {
                ps.setString(1, "b");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("b");
                }
            }
        }
    }
}
