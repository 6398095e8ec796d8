package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Client logins to Sluice (cleartext, md5, SCRAM-SHA-256; right and wrong passwords) and Sluice's own
 * logins to a PostgreSQL that demands md5 or SCRAM, from plain passwords, md5 hashes and SCRAM secrets.
 */
class AuthTest {
    private static final String DB = "postgres = host=127.0.0.1 port=${PGPORT} dbname=postgres";

    private static String whoami(SluiceHandle s, String user, String password) throws SQLException {
        try (Connection c = s.connect("postgres", user, password); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void assertRefused(SluiceHandle s, String user, String password) {
        assertThatThrownBy(() -> whoami(s, user, password))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> {
                    assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01");
                    assertThat(e.getMessage()).contains("password authentication failed for user \"" + user + "\"");
                });
    }

    @Test
    void md5ClientAuthWithPlainSecretsAndMd5Server() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = transaction",
                "\"md5user\" \"md5pass\"\n\"scramuser\" \"scrampass\"\n")) {
            assertThat(whoami(s, "md5user", "md5pass")).isEqualTo("md5user");
            assertThat(whoami(s, "scramuser", "scrampass")).isEqualTo("scramuser"); // server side is SCRAM
            assertRefused(s, "md5user", "wrong");
            assertRefused(s, "nobody", "whatever");
        }
    }

    @Test
    void md5HashInAuthFileWorksBothWays() throws Exception {
        String hash = dev.sluice.auth.Md5Auth.hashPassword("md5user", "md5pass");
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = session",
                "\"md5user\" \"" + hash + "\"\n")) {
            assertThat(whoami(s, "md5user", "md5pass")).isEqualTo("md5user");
            assertRefused(s, "md5user", "md5pas");
        }
    }

    @Test
    void scramClientAuthWithPlainPassword() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = scram-sha-256\npool_mode = transaction",
                "\"scramuser\" \"scrampass\"\n")) {
            assertThat(whoami(s, "scramuser", "scrampass")).isEqualTo("scramuser");
            assertRefused(s, "scramuser", "scrampass2");
        }
    }

    @Test
    void scramSecretFromPgAuthidIsPassedThroughToTheServer() throws Exception {
        String secret;
        try (Connection c = Postgres.direct(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = 'scramuser'")) {
            rs.next();
            secret = rs.getString(1);
        }
        assertThat(secret).startsWith("SCRAM-SHA-256$");
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = scram-sha-256\npool_mode = transaction",
                "\"scramuser\" \"" + secret + "\"\n")) {
            assertRefused(s, "scramuser", "nope");
            // Sluice never saw the password: it logs in to PostgreSQL with the keys from the client's proof.
            assertThat(whoami(s, "scramuser", "scrampass")).isEqualTo("scramuser");
        }
    }

    @Test
    void cleartextClientAuth() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = plain\npool_mode = transaction",
                "\"scramuser\" \"scrampass\"\n")) {
            assertThat(whoami(s, "scramuser", "scrampass")).isEqualTo("scramuser");
            assertRefused(s, "scramuser", "x");
        }
    }

    @Test
    void wrongServerPasswordInConfigIsReportedToTheClient() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = trust\npool_mode = transaction",
                "\"scramuser\" \"not-the-real-password\"\n")) {
            assertThatThrownBy(() -> whoami(s, "scramuser", null))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
        }
    }
}
