package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Simple and extended query protocol through transaction-mode Sluice with pgjdbc, errors included. */
class QueryProtocolTest {
    static SluiceHandle sluice;

    @BeforeAll
    static void start() throws Exception {
        sluice = SluiceHandle.trust("transaction", 3, "");
        try (Connection c = Postgres.direct(); Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS qp_items");
            st.execute("CREATE TABLE qp_items (id int PRIMARY KEY, name text)");
        }
    }

    @AfterAll
    static void stop() {
        sluice.close();
    }

    @Test
    void simpleQueryReturnsServerResults() throws SQLException {
        try (Connection c = sluice.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT 40 + 2, current_database(), current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
            assertThat(rs.getString(2)).isEqualTo("postgres");
            assertThat(rs.getString(3)).isEqualTo("postgres");
        }
    }

    @Test
    void extendedProtocolWithParametersAndTransactions() throws SQLException {
        try (Connection c = sluice.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO qp_items VALUES (?, ?)")) {
                for (int i = 1; i <= 50; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "item-" + i);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*), max(name) FROM qp_items WHERE id <= ?")) {
                ps.setInt(1, 50);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(50);
                    assertThat(rs.getString(2)).isEqualTo("item-9");
                }
            }
            c.rollback();
        }
    }

    @Test
    void errorInsideBatchPipelineRollsBackAndConnectionStaysUsable() throws SQLException {
        try (Connection c = sluice.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO qp_items VALUES (?, ?)")) {
                ps.setInt(1, 1001);
                ps.setString(2, "a");
                ps.addBatch();
                ps.setInt(1, 1001); // duplicate key: the pipeline fails mid-way
                ps.setString(2, "b");
                ps.addBatch();
                ps.setInt(1, 1002);
                ps.setString(2, "c");
                ps.addBatch();
                assertThatThrownBy(ps::executeBatch).isInstanceOf(BatchUpdateException.class)
                        .hasMessageContaining("duplicate key");
            }
            c.rollback();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM qp_items WHERE id IN (1001, 1002)")) {
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            }
        }
    }

    @Test
    void sqlErrorKeepsConnectionUsable() throws SQLException {
        try (Connection c = sluice.connect(); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeQuery("SELECT * FROM no_such_table"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42P01"));
            try (ResultSet rs = st.executeQuery("SELECT 1")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    @Test
    void noticesAndMultipleStatementsPassThrough() throws SQLException {
        try (Connection c = sluice.connect(); Statement st = c.createStatement()) {
            st.execute("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$");
            assertThat((Object) st.getWarnings()).isNotNull();
            assertThat(st.getWarnings().getMessage()).contains("hello from plpgsql");
            assertThat(st.execute("SELECT 1; SELECT 2")).isTrue();
        }
    }

    @Test
    void manyClientsShareFewServersConcurrently() throws Exception {
        int clients = 12;
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < clients; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try (Connection c = sluice.connect()) {
                    for (int i = 0; i < 40; i++) {
                        c.setAutoCommit(false);
                        try (PreparedStatement ps = c.prepareStatement("SELECT ?::int * 2, pg_backend_pid()")) {
                            ps.setInt(1, id * 1000 + i);
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                assertThat(rs.getInt(1)).isEqualTo((id * 1000 + i) * 2);
                            }
                        }
                        c.commit();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join(60_000);
        }
        assertThat(failures).isEmpty();
        // 12 clients, pool_size 3: PostgreSQL never saw more than 3 of Sluice's connections.
        try (Connection c = Postgres.direct(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = 'postgres'"
                     + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            rs.next();
            assertThat(rs.getInt(1)).isLessThanOrEqualTo(3);
        }
    }
}
