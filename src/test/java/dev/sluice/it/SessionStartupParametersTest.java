package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Session mode is the real session: a client's startup parameters (options -c, individual parameters)
 * are its session defaults, so RESET and RESET ALL return to them exactly as on a direct connection;
 * every script here runs directly against PostgreSQL and through Sluice, and must give the same answers.
 */
class SessionStartupParametersTest {
    static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static Properties props(String options, String applicationName) {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        if (options != null) {
            p.setProperty("options", options);
        }
        p.setProperty("ApplicationName", applicationName);
        // pgjdbc then sends application_name in the StartupMessage instead of a SET after login.
        p.setProperty("assumeMinServerVersion", "10");
        return p;
    }

    static Connection direct(Properties p) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + Postgres.port() + "/postgres", p);
    }

    /** SET, RESET and RESET ALL against the startup parameters; what each SHOW answered, in order. */
    private static List<String> resetScript(Connection c) throws SQLException {
        List<String> seen = new ArrayList<>();
        seen.add(one(c, "SHOW search_path"));
        seen.add(one(c, "SHOW statement_timeout"));
        seen.add(one(c, "SHOW application_name"));
        seen.add(one(c, "SELECT reset_val FROM pg_settings WHERE name = 'search_path'"));
        exec(c, "SET search_path = elsewhere");
        seen.add(one(c, "SHOW search_path"));
        exec(c, "RESET search_path");
        seen.add(one(c, "SHOW search_path"));
        exec(c, "SET statement_timeout = '5s'");
        exec(c, "SET application_name = 'changed'");
        exec(c, "SET search_path TO DEFAULT");
        exec(c, "SET search_path = again_elsewhere");
        exec(c, "RESET ALL");
        seen.add(one(c, "SHOW search_path"));
        seen.add(one(c, "SHOW statement_timeout"));
        seen.add(one(c, "SHOW application_name"));
        seen.add(one(c, "SHOW client_encoding"));
        seen.add(one(c, "SHOW DateStyle"));
        seen.add(one(c, "SELECT 'still usable'"));
        return seen;
    }

    @Test
    void startupParametersAreTheSessionDefaultsSoResetReturnsToThem() throws Exception {
        Properties p = props("-c search_path=startup_path -c statement_timeout=1234", "startup-defaults");
        List<String> direct;
        try (Connection c = direct(p)) {
            direct = resetScript(c);
        }
        try (SluiceHandle s = SluiceHandle.trust("session", 2, "");
             Connection c = s.connect("postgres", p)) {
            List<String> through = resetScript(c);
            assertThat(through).isEqualTo(direct);
            assertThat(through.subList(0, 6)).containsExactly("startup_path", "1234ms", "startup-defaults",
                    "startup_path", "elsewhere", "startup_path");
            assertThat(through.subList(6, 9)).containsExactly("startup_path", "1234ms", "startup-defaults");
        }
    }

    @Test
    void longFormOptionsAndIndividualParametersAreSessionDefaultsToo() throws Exception {
        Properties p = props("--search-path=dashed_path --work_mem=8MB", "long-form");
        List<String> direct = new ArrayList<>();
        List<String> through = new ArrayList<>();
        try (Connection c = direct(p)) {
            exec(c, "SET work_mem = '1MB'");
            exec(c, "RESET ALL");
            direct.add(one(c, "SHOW work_mem"));
            direct.add(one(c, "SHOW search_path"));
            direct.add(one(c, "SHOW application_name"));
        }
        try (SluiceHandle s = SluiceHandle.trust("session", 2, "");
             Connection c = s.connect("postgres", p)) {
            exec(c, "SET work_mem = '1MB'");
            exec(c, "RESET ALL");
            through.add(one(c, "SHOW work_mem"));
            through.add(one(c, "SHOW search_path"));
            through.add(one(c, "SHOW application_name"));
        }
        assertThat(through).isEqualTo(direct).containsExactly("8MB", "dashed_path", "long-form");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default_pool_size = 1", "default_pool_size = 5\nmax_db_connections = 1"})
    void clientsWithOtherParametersShareTheLimitsAndIdleServersMakeRoom(String limit) throws Exception {
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}",
                "auth_type = trust\npool_mode = session\nquery_wait_timeout = 10\n" + limit, null)) {
            for (String name : List.of("keyed_a", "keyed_b", "keyed_a", "keyed_c")) {
                try (Connection c = s.connect("postgres", props("-c search_path=" + name, name))) {
                    assertThat(one(c, "SHOW search_path")).isEqualTo(name);
                    exec(c, "SET search_path = somewhere_else");
                    exec(c, "RESET search_path");
                    assertThat(one(c, "SHOW search_path")).isEqualTo(name);
                    // The limit counts every server of the pool, whatever its startup parameters.
                    try (Connection d = Postgres.direct()) {
                        assertThat(one(d, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'keyed%'"))
                                .isEqualTo("1");
                    }
                }
            }
        }
    }

    @Test
    void aServerIsReusedByTheNextClientWithTheSameParametersAfterItsReset() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("session", 2, "")) {
            String firstPid;
            Properties p = props("-c search_path=reused", "reuse-test");
            try (Connection c = s.connect("postgres", p)) {
                firstPid = one(c, "SELECT pg_backend_pid()::text");
                exec(c, "SET search_path = dirty");
                exec(c, "CREATE TEMP TABLE reuse_tmp (x int)");
            }
            try (Connection c = s.connect("postgres", p)) {
                assertThat(one(c, "SELECT pg_backend_pid()::text")).isEqualTo(firstPid);
                assertThat(one(c, "SHOW search_path")).isEqualTo("reused"); // server_reset_query went back to it
                assertThat(one(c, "SELECT count(*)::text FROM pg_class WHERE relname = 'reuse_tmp'")).isEqualTo("0");
            }
        }
    }

    @Test
    void ignoreStartupParametersStillDropsThem() throws Exception {
        Properties p = props("-c search_path=kept -c extra_float_digits=3", "ignored");
        String serverDefault;
        String asked;
        try (Connection d = direct(p)) {
            serverDefault = one(d, "SELECT boot_val FROM pg_settings WHERE name = 'extra_float_digits'");
            asked = one(d, "SHOW extra_float_digits");
        }
        assertThat(asked).isEqualTo("3").isNotEqualTo(serverDefault);
        try (SluiceHandle s = SluiceHandle.trust("session", 2, "ignore_startup_parameters = extra_float_digits\n");
             Connection c = s.connect("postgres", p)) {
            assertThat(one(c, "SHOW extra_float_digits")).isEqualTo(serverDefault);
            assertThat(one(c, "SHOW search_path")).isEqualTo("kept");
        }
    }

    @Test
    void aStartupParameterPostgresRefusesIsRefusedLikePostgresAndOthersCarryOn() throws Exception {
        Properties bad = props("-c statement_timeout=not_a_number", "bad-param");
        String directState;
        try {
            direct(bad).close();
            throw new AssertionError("PostgreSQL accepted statement_timeout=not_a_number");
        } catch (SQLException e) {
            directState = e.getSQLState();
        }
        assertThat(directState).isEqualTo("22023");
        try (SluiceHandle s = SluiceHandle.trust("session", 2, "")) {
            assertThatThrownBy(() -> s.connect("postgres", bad).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo(directState);
                        assertThat(e.getMessage()).contains("statement_timeout");
                    });
            try (Connection c = s.connect("postgres", props("-c statement_timeout=2000", "good-param"))) {
                assertThat(one(c, "SHOW statement_timeout")).isEqualTo("2s");
            }
        }
    }

    @Test
    void terminatingItsOwnBackendLooksLikePostgresAndTheNextClientGetsAHealthyServer() throws Exception {
        String directState;
        try (Connection c = Postgres.direct()) {
            directState = stateOf(() -> one(c, "SELECT pg_terminate_backend(pg_backend_pid())"));
        }
        assertThat(directState).isEqualTo("57P01");
        try (SluiceHandle s = SluiceHandle.trust("session", 1, "query_wait_timeout = 10\n")) {
            String pid;
            try (Connection c = s.connect()) {
                pid = one(c, "SELECT pg_backend_pid()::text");
                assertThat(stateOf(() -> one(c, "SELECT pg_terminate_backend(pg_backend_pid())"))).isEqualTo(directState);
                assertThat(c.isValid(2)).isFalse();
            }
            try (Connection next = s.connect()) {
                assertThat(one(next, "SELECT 'healthy'")).isEqualTo("healthy");
                assertThat(one(next, "SELECT pg_backend_pid()::text")).isNotEqualTo(pid);
            }
        }
    }

    @Test
    void cancellingItsOwnBackendLooksLikePostgresAndTheSessionCarriesOn() throws Exception {
        String directOutcome;
        try (Connection c = Postgres.direct()) {
            directOutcome = outcome(c, "SELECT pg_cancel_backend(pg_backend_pid()), pg_sleep(1)");
            assertThat(one(c, "SELECT 1")).isEqualTo("1");
        }
        assertThat(directOutcome).isEqualTo("57014");
        try (SluiceHandle s = SluiceHandle.trust("session", 1, "");
             Connection c = s.connect()) {
            String pid = one(c, "SELECT pg_backend_pid()::text");
            assertThat(outcome(c, "SELECT pg_cancel_backend(pg_backend_pid()), pg_sleep(1)")).isEqualTo(directOutcome);
            assertThat(one(c, "SELECT pg_backend_pid()::text")).isEqualTo(pid);
        }
    }

    interface SqlCall {
        Object run() throws SQLException;
    }

    /** The SQLSTATE the call failed with; fails the test when it succeeded. */
    static String stateOf(SqlCall call) {
        try {
            call.run();
        } catch (SQLException e) {
            return e.getSQLState();
        }
        throw new AssertionError("expected an error");
    }

    private static String outcome(Connection c, String sql) {
        try {
            return "ok: " + one(c, sql);
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }
}
