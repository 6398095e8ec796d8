package dev.sluice.it;

import static dev.sluice.it.AdminConsoleTest.ADMINS;
import static dev.sluice.it.AdminConsoleTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.admin.ReloadResult;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS between clients and Sluice (client_tls_*), with certificates generated here, real pgjdbc and psql:
 * verify-full really encrypts and really verifies, require refuses plain text, verify-ca demands client
 * certificates, bytes smuggled around the SSLRequest are refused, RELOAD swaps certificates.
 */
class TlsClientTest {
    private static final int SSL_REQUEST = 80877103;
    private static TestPki pki;
    private static Path dir;
    private static Path ca;
    private static Path cert;
    private static Path key;
    private static Path clientCert;
    private static Path clientKey;

    @BeforeAll
    static void certificates() throws Exception {
        pki = TestPki.create("sluice");
        dir = Files.createTempDirectory("sluice-tls");
        ca = TestPki.writeCert(dir.resolve("ca.crt"), pki.ca());
        TestPki.Issued server = pki.server("sluice-proxy", List.of("localhost"), List.of("127.0.0.1"));
        cert = TestPki.writeCert(dir.resolve("server.crt"), server.cert());
        key = TestPki.writeKey(dir.resolve("server.key"), server.keys().getPrivate());
        TestPki.Issued client = pki.client("postgres");
        clientCert = TestPki.writeCert(dir.resolve("client.crt"), client.cert());
        clientKey = TestPki.writeKeyDer(dir.resolve("client.pk8"), client.keys().getPrivate());
    }

    static String tls(String mode, Path certFile, Path keyFile) {
        return "client_tls_sslmode = " + mode + "\nclient_tls_cert_file = " + certFile + "\nclient_tls_key_file = "
                + keyFile + "\nclient_tls_ca_file = " + ca + "\n" + ADMINS;
    }

    static Properties ssl(String user, String sslmode, Path root) {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("sslmode", sslmode);
        p.setProperty("sslrootcert", root.toString());
        // no client certificate unless a test sets one (pgjdbc would otherwise look in ~/.postgresql)
        p.setProperty("sslcert", dir.resolve("none.crt").toString());
        p.setProperty("prepareThreshold", "0");
        return p;
    }

    @Test
    void pgjdbcVerifyFullWorksThroughSluiceAndTheConnectionIsTls() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key))) {
            Properties p = ssl("postgres", "verify-full", ca);
            p.setProperty("ApplicationName", "tls-app");
            try (Connection c = DriverManager.getConnection(s.url("postgres"), p)) {
                assertThat(one(c, "SELECT 'through TLS'")).isEqualTo("through TLS");
                Properties a = ssl("admin", "verify-full", ca);
                a.setProperty("preferQueryMode", "simple");
                try (Connection admin = DriverManager.getConnection(s.url("pgbouncer"), a);
                     Statement st = admin.createStatement();
                     ResultSet rs = st.executeQuery("SHOW CLIENTS")) {
                    String tls = null;
                    while (rs.next()) {
                        if ("tls-app".equals(rs.getString("application_name"))) {
                            tls = rs.getString("tls");
                        }
                    }
                    assertThat(tls).matches("TLSv1\\.[23]/TLS_.+");
                }
            }
        }
    }

    @Test
    void pgjdbcVerifyFullRefusesAnUnknownCaAndAWrongHostName() throws Exception {
        TestPki other = TestPki.create("other");
        Path otherCa = TestPki.writeCert(dir.resolve("other-ca.crt"), other.ca());
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key))) {
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", otherCa)))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("08006"));
        }
        // A certificate for another host name: verify-full refuses it, verify-ca (chain only) accepts it.
        TestPki.Issued elsewhere = pki.server("db.example.com", List.of("db.example.com"), List.of());
        Path otherCert = TestPki.writeCert(dir.resolve("elsewhere.crt"), elsewhere.cert());
        Path otherKey = TestPki.writeKey(dir.resolve("elsewhere.key"), elsewhere.keys().getPrivate());
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", otherCert, otherKey))) {
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca)))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("127.0.0.1");
            try (Connection c = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-ca", ca))) {
                assertThat(one(c, "SELECT 1")).isEqualTo("1");
            }
        }
    }

    @Test
    void requireRefusesAPlainTextClientWith28000() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key))) {
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), ssl("postgres", "disable", ca)))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                    .hasMessageContaining("TLS is required (client_tls_sslmode = require)");
            try (Connection c = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "prefer", ca))) {
                assertThat(one(c, "SELECT 'prefer got TLS'")).isEqualTo("prefer got TLS");
            }
        }
        // prefer on Sluice's side: plain text is still accepted, TLS when asked for.
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("prefer", cert, key));
             Connection plain = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "disable", ca));
             Connection tls = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca))) {
            assertThat(one(plain, "SELECT 1")).isEqualTo("1");
            assertThat(one(tls, "SELECT 2")).isEqualTo("2");
            assertThat(s.server().clients()).extracting(dev.sluice.frontend.ClientSession::tlsDescription)
                    .anyMatch(String::isEmpty).anyMatch(t -> t.startsWith("TLSv1."));
        }
    }

    @Test
    void verifyCaDemandsAClientCertificateSignedByTheCa() throws Exception {
        TestPki other = TestPki.create("stranger");
        TestPki.Issued stranger = other.client("postgres");
        Path strangerCert = TestPki.writeCert(dir.resolve("stranger.crt"), stranger.cert());
        Path strangerKey = TestPki.writeKeyDer(dir.resolve("stranger.pk8"), stranger.keys().getPrivate());
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("verify-ca", cert, key))) {
            Properties withCert = ssl("postgres", "verify-full", ca);
            withCert.setProperty("sslcert", clientCert.toString());
            withCert.setProperty("sslkey", clientKey.toString());
            try (Connection c = DriverManager.getConnection(s.url("postgres"), withCert)) {
                assertThat(one(c, "SELECT 'client certificate accepted'")).isEqualTo("client certificate accepted");
            }
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca)))
                    .isInstanceOf(SQLException.class);
            Properties wrongCa = ssl("postgres", "verify-full", ca);
            wrongCa.setProperty("sslcert", strangerCert.toString());
            wrongCa.setProperty("sslkey", strangerKey.toString());
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), wrongCa))
                    .isInstanceOf(SQLException.class);
        }
    }

    @Test
    void unencryptedBytesPipelinedAfterTheSslRequestAreRefused() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key));
             Socket socket = new Socket("127.0.0.1", s.port())) {
            socket.setSoTimeout(10_000);
            // SSLRequest and a plain StartupMessage in one write: the startup would be taken as if encrypted.
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(8);
            out.writeInt(SSL_REQUEST);
            byte[] params = "user\0postgres\0database\0postgres\0\0".getBytes();
            out.writeInt(8 + params.length);
            out.writeInt(196608);
            out.write(params);
            socket.getOutputStream().write(bytes.toByteArray());
            InputStream in = socket.getInputStream();
            byte[] all = readUntilClosed(in);
            assertThat((char) all[0]).as("no 'S': the error comes instead").isEqualTo('E');
            String text = new String(all);
            assertThat(text).contains("C08P01").contains("received unencrypted data after SSL request");
            try (Connection c = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca))) {
                assertThat(one(c, "SELECT 'others unaffected'")).isEqualTo("others unaffected");
            }
        }
    }

    @Test
    void plainTextWhereTheTlsHandshakeShouldBeClosesTheConnection() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key));
             Socket socket = new Socket("127.0.0.1", s.port())) {
            socket.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(8);
            out.writeInt(SSL_REQUEST);
            out.flush();
            assertThat(socket.getInputStream().read()).isEqualTo('S');
            byte[] params = "user\0postgres\0database\0postgres\0\0".getBytes();
            out.writeInt(8 + params.length);
            out.writeInt(196608);
            out.write(params);
            out.flush();
            readUntilClosed(socket.getInputStream()); // closed, not hanging: the socket timeout would throw
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
                    .until(() -> s.server().clients().isEmpty());
        }
    }

    @Test
    void reloadUsesTheNewCertificateAndKeepsTheRunningOneWhenAFileIsBad() throws Exception {
        Path d = Files.createTempDirectory("sluice-tls-reload");
        Path liveCert = Files.copy(cert, d.resolve("live.crt"));
        Path liveKey = Files.copy(key, d.resolve("live.key"));
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", liveCert, liveKey));
             Connection before = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca))) {
            TestPki renewed = TestPki.create("renewed");
            Path renewedCa = TestPki.writeCert(d.resolve("renewed-ca.crt"), renewed.ca());
            TestPki.Issued next = renewed.server("sluice-renewed", List.of("localhost"), List.of("127.0.0.1"));
            TestPki.writeCert(liveCert, next.cert());
            TestPki.writeKey(liveKey, next.keys().getPrivate());

            ReloadResult r = s.server().reload();
            assertThat(r.applied()).as(r.errors().toString()).isTrue();
            assertThat(r.notes()).anyMatch(n -> n.contains("client TLS certificate for new connections: CN=sluice-renewed"));
            try (Connection c = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", renewedCa))) {
                assertThat(one(c, "SELECT 'renewed'")).isEqualTo("renewed");
            }
            assertThatThrownBy(() -> DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", ca)))
                    .isInstanceOf(SQLException.class);
            assertThat(one(before, "SELECT 'old connection kept'")).isEqualTo("old connection kept");

            Files.writeString(liveKey, "not a key\n");
            ReloadResult bad = s.server().reload();
            assertThat(bad.applied()).isFalse();
            assertThat(bad.errors()).anyMatch(e -> e.contains(s.dir().resolve("sluice.ini") + ":")
                    && e.contains("client_tls_key_file") && e.contains("holds no private key"));
            try (Connection c = DriverManager.getConnection(s.url("postgres"), ssl("postgres", "verify-full", renewedCa))) {
                assertThat(one(c, "SELECT 'running config kept'")).isEqualTo("running config kept");
            }
        }
    }

    @Test
    void psqlWithVerifyFull() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql is not installed");
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key))) {
            String base = "host=127.0.0.1 port=" + s.port() + " dbname=postgres user=postgres sslrootcert=" + ca
                    + " sslcert=" + dir.resolve("none.crt");
            String ok = psql(base + " sslmode=verify-full", 0);
            assertThat(ok).contains("TLS via psql");
            String refused = psql(base + " sslmode=disable", 2);
            assertThat(refused).contains("TLS is required (client_tls_sslmode = require)");
        }
    }

    @Test
    void unixSocketClientsAreNotAskedForTlsEvenUnderRequire() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql is not installed");
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path sockets = Files.createTempDirectory("sluice-tls-sock");
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, tls("require", cert, key)
                + "unix_socket_dir = " + sockets + "\nlisten_port = " + port + "\n")) {
            // As in PgBouncer: TLS is a TCP matter; a local socket is trusted like PostgreSQL's "local" lines.
            String local = psql("host=" + sockets + " port=" + port + " dbname=postgres user=postgres", 0);
            assertThat(local).contains("TLS via psql");
            String tcp = psql("host=127.0.0.1 port=" + port + " dbname=postgres user=postgres sslmode=disable", 2);
            assertThat(tcp).contains("TLS is required");
        }
    }

    private static String psql(String conninfo, int expectedExit) throws Exception {
        Process p = new ProcessBuilder("/usr/bin/psql", conninfo, "-Atc", "SELECT 'TLS via psql'")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(out).isEqualTo(expectedExit);
        return out;
    }

    /** Reads until the peer closes; a peer that keeps the connection open fails the test by timeout. */
    private static byte[] readUntilClosed(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                all.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection was not closed within 10s", e);
        } catch (java.net.SocketException e) {
            // reset by peer: closed as well
        }
        return all.toByteArray();
    }
}
