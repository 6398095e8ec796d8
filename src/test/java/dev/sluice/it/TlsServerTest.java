package dev.sluice.it;

import static dev.sluice.it.AdminConsoleTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS between Sluice and PostgreSQL (server_tls_*): a real PostgreSQL of its own, started here with ssl=on
 * and a pg_hba.conf that has only hostssl lines, so a plain-text login is refused by PostgreSQL itself.
 * Its certificate names 127.0.0.1 only, which lets verify-full be tested against a wrong host name.
 */
class TlsServerTest {
    private static TestPki pki;
    private static Path dir;
    private static Path ca;
    private static EmbeddedPostgres pg;

    @BeforeAll
    static void startTlsOnlyPostgres() throws Exception {
        pki = TestPki.create("postgres");
        dir = Files.createTempDirectory("sluice-pg-tls");
        ca = TestPki.writeCert(dir.resolve("ca.crt"), pki.ca());
        TestPki.Issued server = pki.server("pg-tls", List.of(), List.of("127.0.0.1"));
        Path cert = TestPki.writeCert(dir.resolve("server.crt"), server.cert());
        Path key = TestPki.writeKey(dir.resolve("server.key"), server.keys().getPrivate());
        pg = EmbeddedPostgres.builder()
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", cert.toString())
                .setServerConfig("ssl_key_file", key.toString())
                .setServerConfig("ssl_ca_file", ca.toString())
                .start();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort()
                + "/postgres?user=postgres&sslmode=disable"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE certuser LOGIN");
            var rs = st.executeQuery("SHOW hba_file");
            rs.next();
            Files.writeString(Path.of(rs.getString(1)), String.join("\n",
                    "local all all trust",
                    "hostssl all certuser 127.0.0.1/32 cert",
                    "hostssl all all 127.0.0.1/32 trust",
                    "hostssl all all ::1/128 trust",
                    ""));
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private static SluiceHandle sluice(String host, String tls) throws Exception {
        return SluiceHandle.start("* = host=" + host + " port=" + pg.getPort(),
                "auth_type = trust\npool_mode = transaction\n" + tls, null);
    }

    private static Connection client(SluiceHandle s, String user) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("sslmode", "disable");
        p.setProperty("prepareThreshold", "0");
        return s.connect("postgres", p);
    }

    /** PostgreSQL's own view of the server connection Sluice runs this query on. */
    private static String sslOfThisBackend(Connection c) throws SQLException {
        return one(c, "SELECT ssl || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    }

    @Test
    void withoutTlsTheServerRefusesSluiceAndTheClientSeesWhy() throws Exception {
        try (SluiceHandle s = sluice("127.0.0.1", "server_tls_sslmode = disable\n")) {
            assertThatThrownBy(() -> client(s, "postgres"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                    .hasMessageContaining("no pg_hba.conf entry");
        }
    }

    @Test
    void requireEncryptsTheServerLeg() throws Exception {
        try (SluiceHandle s = sluice("127.0.0.1", "server_tls_sslmode = require\n" + AdminConsoleTest.ADMINS);
             Connection c = client(s, "postgres")) {
            assertThat(sslOfThisBackend(c)).matches("true TLSv1\\.[23]");
            try (Console console = Console.open(s, "admin", null)) {
                assertThat(console.query("SHOW SERVERS").rows()).isNotEmpty()
                        .allSatisfy(r -> assertThat(r.get("tls")).matches("TLSv1\\.[23]/TLS_.+"));
            }
        }
    }

    @Test
    void verifyFullChecksTheCaAndTheHostName() throws Exception {
        String verifyFull = "server_tls_sslmode = verify-full\nserver_tls_ca_file = " + ca + "\n";
        try (SluiceHandle s = sluice("127.0.0.1", verifyFull);
             Connection c = client(s, "postgres")) {
            assertThat(sslOfThisBackend(c)).startsWith("true");
        }
        // The certificate names 127.0.0.1, not localhost: verify-full refuses, verify-ca (no name check) accepts.
        try (SluiceHandle s = sluice("localhost", verifyFull)) {
            assertThatThrownBy(() -> client(s, "postgres"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"))
                    .hasMessageContaining("TLS handshake with server localhost:" + pg.getPort())
                    .hasMessageContaining("server_tls_sslmode = verify-full");
        }
        try (SluiceHandle s = sluice("localhost", verifyFull.replace("verify-full", "verify-ca"));
             Connection c = client(s, "postgres")) {
            assertThat(sslOfThisBackend(c)).startsWith("true");
        }
        // A CA that did not sign the server's certificate.
        Path otherCa = TestPki.writeCert(dir.resolve("other-ca.crt"), TestPki.create("other").ca());
        try (SluiceHandle s = sluice("127.0.0.1", "server_tls_sslmode = verify-ca\nserver_tls_ca_file = " + otherCa + "\n")) {
            assertThatThrownBy(() -> client(s, "postgres"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("TLS handshake with server 127.0.0.1:" + pg.getPort());
        }
    }

    @Test
    void bytesAfterTheServersSAreRefused() throws Exception {
        // A raw peer in PostgreSQL's place, for the one answer a real server never gives: 'S' with plain-text
        // bytes behind it (a man in the middle injecting a response before the handshake, CVE-2021-23222).
        try (java.net.ServerSocket fake = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            // It answers every connection, each on its own thread (Sluice's readiness probe connects too).
            Thread peer = new Thread(() -> {
                while (!fake.isClosed()) {
                    try {
                        java.net.Socket sock = fake.accept();
                        Thread t = new Thread(() -> {
                            try (sock) {
                                sock.setSoTimeout(10_000);
                                sock.getInputStream().readNBytes(8); // the SSLRequest
                                sock.getOutputStream().write(
                                        "SE\0\0\0\4".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                                sock.getOutputStream().flush();
                                sock.getInputStream().read(); // until Sluice closes
                            } catch (java.io.IOException ignored) {
                                // Sluice closed the connection: expected
                            }
                        });
                        t.setDaemon(true);
                        t.start();
                    } catch (java.io.IOException e) {
                        return; // the test closed the listener
                    }
                }
            });
            peer.setDaemon(true);
            peer.start();
            try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=" + fake.getLocalPort(),
                    "auth_type = trust\nserver_tls_sslmode = require\n", null)) {
                assertThatThrownBy(() -> client(s, "postgres"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08P01"))
                        .hasMessageContaining("sent unencrypted data after its answer to the SSLRequest");
            }
        }
    }

    @Test
    void theBudgetMonitorReadsATlsOnlyServerWithTheSameSslmode() throws Exception {
        String tls = "server_tls_sslmode = verify-full\nserver_tls_ca_file = " + ca + "\nmax_db_connections = auto\n"
                + "budget_user = postgres\n";
        try (SluiceHandle s = sluice("127.0.0.1", tls)) {
            var snapshot = s.server().budgetMonitors().get(0).refresh().get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(snapshot.lastError()).isNull();
            assertThat(snapshot.capacity()).isNotNull();
        }
        // verify-full against the wrong name: the monitor refuses too, and says why
        try (SluiceHandle s = sluice("localhost", tls)) {
            var snapshot = s.server().budgetMonitors().get(0).refresh().get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(snapshot.lastError()).isNotNull();
        }
    }

    @Test
    void cancelReachesATlsOnlyServer() throws Exception {
        try (SluiceHandle s = sluice("127.0.0.1", "server_tls_sslmode = require\n");
             Connection c = client(s, "postgres");
             Statement st = c.createStatement()) {
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(500);
                    st.cancel();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> st.execute("SELECT pg_sleep(30)"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            assertThat(System.nanoTime() - t0).isLessThan(java.util.concurrent.TimeUnit.SECONDS.toNanos(10));
            assertThat(one(c, "SELECT 'usable after cancel'")).isEqualTo("usable after cancel");
        }
    }

    @Test
    void sluicePresentsItsClientCertificateToPostgres() throws Exception {
        TestPki.Issued mine = pki.client("certuser");
        Path cert = TestPki.writeCert(dir.resolve("sluice.crt"), mine.cert());
        Path key = TestPki.writeKey(dir.resolve("sluice.key"), mine.keys().getPrivate());
        String tls = "server_tls_sslmode = verify-full\nserver_tls_ca_file = " + ca + "\nserver_tls_cert_file = " + cert
                + "\nserver_tls_key_file = " + key + "\n";
        try (SluiceHandle s = sluice("127.0.0.1", tls); Connection c = client(s, "certuser")) {
            assertThat(one(c, "SELECT current_user")).isEqualTo("certuser"); // pg_hba: cert authentication
        }
        try (SluiceHandle s = sluice("127.0.0.1", "server_tls_sslmode = verify-full\nserver_tls_ca_file = " + ca + "\n")) {
            assertThatThrownBy(() -> client(s, "certuser")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("certificate");
        }
    }

    @Test
    void preferFallsBackToPlainTextAndRequireDoesNotWithAServerWithoutTls() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "server_tls_sslmode = prefer\n");
             Connection c = s.connect()) {
            assertThat(one(c, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).isEqualTo("false");
        }
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "server_tls_sslmode = require\n")) {
            assertThatThrownBy(s::connect)
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08001"))
                    .hasMessageContaining("does not accept TLS")
                    .hasMessageContaining("server_tls_sslmode = require");
        }
    }
}
