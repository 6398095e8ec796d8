package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Transaction mode never lets one client see another's session state: many clients through a small
 * pool each set their own state (SET, temp tables, advisory locks, LISTEN, PREPARE, protocol-level named
 * statements) and check that what they observe is either their own state or the server's default, never
 * another client's.
 */
class SessionLeakTest {
    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Test
    void aClientsSessionStateIsNeverVisibleToTheNextClientOfTheSameServer() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            try (Connection a = s.connect()) {
                exec(a, "SET statement_timeout = '4321s'");
                exec(a, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
                exec(a, "CREATE TEMP TABLE only_a (x int)");
                one(a, "SELECT pg_advisory_lock(4242)::text");
                exec(a, "LISTEN channel_of_a");
                exec(a, "SELECT set_config('search_path', 'pg_catalog', false)");
            }
            try (Connection b = s.connect()) {
                assertThat(one(b, "SHOW statement_timeout")).isEqualTo("0");
                assertThat(one(b, "SHOW default_transaction_read_only")).isEqualTo("off");
                assertThat(one(b, "SELECT count(*)::text FROM pg_class WHERE relname = 'only_a'")).isEqualTo("0");
                assertThat(one(b, "SELECT pg_try_advisory_lock(4242)::text")).isEqualTo("true");
                assertThat(one(b, "SELECT count(*)::text FROM pg_listening_channels()")).isEqualTo("0");
                assertThat(one(b, "SHOW search_path")).isEqualTo("\"$user\", public");
                exec(b, "CREATE TABLE IF NOT EXISTS leak_rw (x int)"); // not read-only
            }
        }
    }

    @Test
    void aClientsOwnSetIsCarriedToItsNextTransactionsAndNotToOthers() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, "")) {
            Properties simple = new Properties();
            simple.setProperty("user", "postgres");
            simple.setProperty("preferQueryMode", "simple"); // SET via the simple protocol; the other uses Parse
            try (Connection a = s.connect("postgres", simple); Connection b = s.connect()) {
                exec(a, "SET search_path = pg_catalog, public");
                exec(b, "SET statement_timeout TO '7s'");
                for (int i = 0; i < 3; i++) { // alternating on the one server
                    assertThat(one(a, "SHOW search_path")).isEqualTo("pg_catalog, public");
                    assertThat(one(a, "SHOW statement_timeout")).isEqualTo("0");
                    assertThat(one(b, "SHOW search_path")).isEqualTo("\"$user\", public");
                    assertThat(one(b, "SHOW statement_timeout")).isEqualTo("7s");
                }
                exec(b, "RESET statement_timeout");
                assertThat(one(b, "SHOW statement_timeout")).isEqualTo("0");
            }
        }
    }

    @Test
    void randomizedClientsNeverObserveEachOthersSettings() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "")) {
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    Random rnd = new Random(id);
                    Properties p = new Properties();
                    p.setProperty("user", "postgres");
                    p.setProperty("ApplicationName", "client-" + id);
                    p.setProperty("prepareThreshold", String.valueOf(1 + rnd.nextInt(3)));
                    try (Connection c = s.connect("postgres", p)) {
                        for (int i = 0; i < 40; i++) {
                            switch (rnd.nextInt(6)) {
                                case 0 -> exec(c, "SET work_mem = '" + (64 + id) + "kB'");
                                case 1 -> exec(c, "CREATE TEMP TABLE IF NOT EXISTS t_" + id + " (x int)");
                                case 2 -> one(c, "SELECT pg_advisory_lock(" + (1000 + id) + ")::text");
                                case 3 -> exec(c, "LISTEN ch_" + id);
                                case 4 -> exec(c, "PREPARE p_" + id + " AS SELECT " + id);
                                default -> { }
                            }
                            // what this client sees is its own state or the default, never another client's
                            String wm = one(c, "SHOW work_mem");
                            assertThat(wm).isIn("4MB", (64 + id) + "kB");
                            String app = one(c, "SELECT current_setting('application_name')");
                            assertThat(app).isEqualTo("client-" + id);
                            String temps = one(c, "SELECT string_agg(relname, ',') FROM pg_class"
                                    + " WHERE relname LIKE 't\\\\_%' AND relpersistence = 't'"
                                    + " AND pg_table_is_visible(oid)");
                            if (temps != null) {
                                assertThat(temps).isEqualTo("t_" + id);
                            }
                            String locks = one(c, "SELECT string_agg(objid::text, ',') FROM pg_locks"
                                    + " WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
                            if (locks != null) {
                                assertThat(locks).isEqualTo(String.valueOf(1000 + id));
                            }
                            String channels = one(c, "SELECT string_agg(c, ',') FROM pg_listening_channels() c");
                            if (channels != null) {
                                assertThat(channels).isEqualTo("ch_" + id);
                            }
                            String prepared = one(c, "SELECT string_agg(name, ',') FROM pg_prepared_statements"
                                    + " WHERE name LIKE 'p\\_%'");
                            if (prepared != null) {
                                assertThat(prepared).isEqualTo("p_" + id);
                            }
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
    }
}
