package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.auth.Md5Auth;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Passwords never reach the log: logins with right and wrong passwords over plain, md5 and SCRAM, a wrong
 * server password in auth_file and a forced server login with password= in [databases], with every Sluice
 * logger at TRACE; then every captured line (message, arguments, stack traces) is searched for the
 * passwords and the password-equivalent md5 hash. (The admin console's refusal of other users is tested in
 * AdminConsoleTest.onlyAdminAndStatsUsersGetIn.)
 */
class SecretsTest {
    private static final String DB = "postgres = host=127.0.0.1 port=${PGPORT} dbname=postgres\n"
            + "appdb = host=127.0.0.1 port=${PGPORT} dbname=appdb user=appuser password=apppass";

    private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
    private final Map<String, Level> levelsBefore = new java.util.HashMap<>();

    @BeforeEach
    void captureEverySluiceLogLine() {
        captured.start();
        for (String name : List.of(Logger.ROOT_LOGGER_NAME, "dev.sluice", "dev.sluice.pool")) {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            levelsBefore.put(name, l.getLevel());
            l.setLevel(Level.TRACE);
        }
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(captured);
    }

    @AfterEach
    void restoreLogging() {
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(captured);
        levelsBefore.forEach((name, level) -> ((Logger) LoggerFactory.getLogger(name)).setLevel(level));
    }

    @Test
    void passwordsNeverAppearInTheLog() throws Exception {
        List<String> secrets = new ArrayList<>(List.of("md5pass", "scrampass", "apppass",
                Md5Auth.hashPassword("md5user", "md5pass"), "Wr0ng-plain-7Qk", "Wr0ng-md5-8Rm", "Wr0ng-scram-9Sn",
                "Wr0ng-unknown-1Tp", "Srv-Wr0ng-2Uq"));
        String users = "\"md5user\" \"" + Md5Auth.hashPassword("md5user", "md5pass") + "\"\n"
                + "\"scramuser\" \"scrampass\"\n\"appuser\" \"apppass\"\n";
        String lenient = "\nauth_failure_delay = 0\nauth_failure_limit = 0\n";
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = plain\npool_mode = transaction" + lenient, users)) {
            assertThat(whoami(s, "postgres", "scramuser", "scrampass")).isEqualTo("scramuser");
            assertRefused(s, "scramuser", "Wr0ng-plain-7Qk");
        }
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = session" + lenient, users)) {
            assertThat(whoami(s, "postgres", "md5user", "md5pass")).isEqualTo("md5user");
            assertRefused(s, "md5user", "Wr0ng-md5-8Rm");
            assertRefused(s, "nobody", "Wr0ng-unknown-1Tp");
            // [databases] password= : Sluice's own login to PostgreSQL as appuser
            assertThat(whoami(s, "appdb", "scramuser", "scrampass")).isEqualTo("appuser");
        }
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = scram-sha-256\npool_mode = transaction" + lenient,
                users)) {
            assertThat(whoami(s, "postgres", "scramuser", "scrampass")).isEqualTo("scramuser");
            assertRefused(s, "scramuser", "Wr0ng-scram-9Sn");
        }
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = trust\npool_mode = transaction" + lenient,
                "\"scramuser\" \"Srv-Wr0ng-2Uq\"\n")) {
            // PostgreSQL refuses Sluice's login with the wrong server password; the client is told, not the log
            assertThatThrownBy(() -> whoami(s, "postgres", "scramuser", null)).isInstanceOf(SQLException.class);
        }

        List<String> lines = new ArrayList<>();
        for (ILoggingEvent e : captured.list) {
            StringBuilder line = new StringBuilder(e.getLoggerName()).append(' ').append(e.getFormattedMessage());
            if (e.getArgumentArray() != null) {
                for (Object a : e.getArgumentArray()) {
                    line.append(' ').append(a);
                }
            }
            if (e.getThrowableProxy() != null) {
                line.append(' ').append(ThrowableProxyUtil.asString(e.getThrowableProxy()));
            }
            lines.add(line.toString());
        }
        // The capture is real: the failed logins and the login with the server are in it.
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("failed authentication"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("reason=auth_failed"));
        assertThat(lines.size()).isGreaterThan(20);
        for (String secret : secrets) {
            assertThat(lines).as("log lines containing a password").noneSatisfy(l -> assertThat(l).contains(secret));
        }
    }

    private static String whoami(SluiceHandle s, String db, String user, String password) throws SQLException {
        try (Connection c = s.connect(db, user, password); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void assertRefused(SluiceHandle s, String user, String password) {
        assertThatThrownBy(() -> whoami(s, "postgres", user, password))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
    }
}
