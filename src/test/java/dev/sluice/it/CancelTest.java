package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A client's CancelRequest (with Sluice's key) reaches the server running its query, in both pool modes. */
class CancelTest {
    static SluiceHandle txn;
    static SluiceHandle session;

    @BeforeAll
    static void start() throws Exception {
        txn = SluiceHandle.trust("transaction", 2, "");
        session = SluiceHandle.trust("session", 2, "");
    }

    @AfterAll
    static void stop() {
        txn.close();
        session.close();
    }

    @Test
    void cancelInTransactionMode() throws Exception {
        assertCancels(txn);
    }

    @Test
    void cancelInSessionMode() throws Exception {
        assertCancels(session);
    }

    private static void assertCancels(SluiceHandle sluice) throws Exception {
        ScheduledExecutorService ex = Executors.newSingleThreadScheduledExecutor();
        try (Connection c = sluice.connect(); Statement st = c.createStatement()) {
            ex.schedule(() -> {
                st.cancel();
                return null;
            }, 500, TimeUnit.MILLISECONDS);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> st.execute("SELECT pg_sleep(30)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(10);
            try (ResultSet rs = st.executeQuery("SELECT 7")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void sessionModeClientsSeeTheirRealBackendPidButNotItsSecret() throws Exception {
        int pid;
        try (Connection c = session.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            pid = rs.getInt(1);
            assertThat(c.unwrap(org.postgresql.PGConnection.class).getBackendPID()).isEqualTo(pid);
        }
        // The next owner of the same (reused) server sees the same real pid.
        try (Connection c = session.connect()) {
            assertThat(c.unwrap(org.postgresql.PGConnection.class).getBackendPID()).isEqualTo(pid);
        }
    }

    @Test
    void cancelWithWrongKeyIsIgnored() throws Exception {
        // A forged CancelRequest (random pid/secret) must not cancel anyone's query.
        try (Connection c = txn.connect(); Statement st = c.createStatement()) {
            Thread forger = new Thread(() -> {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", txn.port())) {
                    java.io.DataOutputStream out = new java.io.DataOutputStream(s.getOutputStream());
                    out.writeInt(16);
                    out.writeInt(80877102);
                    out.writeInt(12345);
                    out.writeInt(67890);
                    out.flush();
                } catch (Exception ignored) {
                    // nothing to check on the forger's side
                }
            });
            forger.start();
            try (ResultSet rs = st.executeQuery("SELECT pg_sleep(1), 5")) {
                rs.next();
                assertThat(rs.getInt(2)).isEqualTo(5);
            }
            forger.join();
        }
    }
}
