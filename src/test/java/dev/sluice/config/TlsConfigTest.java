package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.it.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// client_tls_* / server_tls_* in pgbouncer.ini: what loads (and builds a TLS context), what is refused and where.
class TlsConfigTest {

    @TempDir
    Path dir;

    private ConfigFiles files;
    private TestPki pki;
    private Path cert;
    private Path key;
    private Path ca;

    @BeforeEach
    void setUp() throws Exception {
        files = new ConfigFiles(dir);
        pki = TestPki.create("config");
        TestPki.Issued server = pki.server("sluice", List.of("localhost"), List.of("127.0.0.1"));
        cert = TestPki.writeCert(dir.resolve("server.crt"), server.cert());
        key = TestPki.writeKey(dir.resolve("server.key"), server.keys().getPrivate());
        ca = TestPki.writeCert(dir.resolve("ca.crt"), pki.ca());
    }

    @Test
    void aCompleteClientAndServerSetupLoadsWithContextsAndShowsInShowConfig() throws ConfigException {
        SluiceConfig cfg = files.load("""
                [pgbouncer]
                auth_type = trust
                client_tls_sslmode = verify-full
                client_tls_key_file = server.key
                client_tls_cert_file = server.crt
                client_tls_ca_file = ca.crt
                client_tls_protocols = tlsv1.3
                client_tls_ciphers = TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384
                server_tls_sslmode = verify-ca
                server_tls_ca_file = ca.crt
                server_tls_ciphers = ECDHE-ECDSA-AES128-GCM-SHA256
                """);
        TlsSettings tls = cfg.settings().tls();
        assertThat(tls.client().mode()).isEqualTo(TlsMode.VERIFY_FULL);
        assertThat(tls.client().keyFile()).isEqualTo(key); // relative to the ini's directory
        assertThat(tls.client().enabled()).isTrue();
        assertThat(tls.client().context().isServer()).isTrue();
        assertThat(tls.client().context().cipherSuites()).containsExactly("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384");
        assertThat(tls.client().summary()).startsWith("CN=sluice, expires ");
        assertThat(tls.server().enabled()).isTrue();
        assertThat(tls.server().context().isClient()).isTrue();
        assertThat(tls.server().context().cipherSuites()).containsExactly("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        var rows = SettingsTable.rows(cfg.settings());
        assertThat(rows).filteredOn(r -> r.key().equals("client_tls_sslmode")).singleElement()
                .satisfies(r -> assertThat(r.value()).isEqualTo("verify-full"))
                .satisfies(r -> assertThat(r.defaultValue()).isEqualTo("disable"));
        assertThat(rows).filteredOn(r -> r.key().equals("server_tls_ca_file")).singleElement()
                .satisfies(r -> assertThat(r.value()).isEqualTo(ca.toString()));
    }

    @Test
    void badFilesAndWordsAreErrorsWithTheirLine() {
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                client_tls_sslmode = require
                client_tls_key_file = missing.key
                client_tls_cert_file = ca.crt
                client_tls_protocols = tlsv1.2,sslv3
                server_tls_sslmode = verify-everything
                server_tls_ciphers = HIGH:!aNULL
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(4, 6, 7, 8);
        assertThat(e.problems().get(0).message()).isEqualTo("client_tls_key_file: " + dir.resolve("missing.key")
                + " does not exist");
        assertThat(e.problems().get(1).message()).startsWith("client_tls_protocols: 'sslv3' is not a TLS protocol version");
        assertThat(e.problems().get(2).message()).isEqualTo("server_tls_sslmode: 'verify-everything' is not a TLS mode; "
                + "use one of disable, allow, prefer, require, verify-ca, verify-full");
        assertThat(e.problems().get(3).message()).contains("OpenSSL cipher expression");
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() throws Exception {
        TestPki.Issued other = pki.server("other", List.of("other"), List.of());
        TestPki.writeKey(dir.resolve("other.key"), other.keys().getPrivate());
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                client_tls_sslmode = prefer
                client_tls_key_file = other.key
                client_tls_cert_file = server.crt
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(4);
        assertThat(e.problems().get(0).message()).contains("is not the private key of the certificate in");
    }

    @Test
    void verifyCaTowardsClientsNeedsTheCaFileAndEncryptedKeysAreExplained() {
        files.write("enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG\n"
                + "-----END ENCRYPTED PRIVATE KEY-----\n");
        ConfigException e = files.fail("""
                [pgbouncer]
                auth_type = trust
                client_tls_sslmode = verify-ca
                client_tls_key_file = enc.key
                client_tls_cert_file = server.crt
                """);
        assertThat(e.problems()).extracting(ConfigProblem::line).containsExactly(3, 4);
        assertThat(e.problems().get(0).message()).contains("needs client_tls_ca_file");
        assertThat(e.problems().get(1).message()).contains("encrypted private key").contains("openssl pkcs8");
    }

    @Test
    void aPkcs1RsaKeyAsOlderOpensslWritesItIsAccepted() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        var rsa = g.generateKeyPair();
        Path legacy = TestPki.writeKeyOpenSslLegacy(dir.resolve("rsa.key"), rsa.getPrivate());
        assertThat(Files.readString(legacy)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(PemFiles.privateKey(legacy).getEncoded()).isEqualTo(rsa.getPrivate().getEncoded());
    }

    @Test
    void setCannotChangeTlsButReloadCan() {
        assertThatThrownBy(() -> SettingsTable.set(Settings.defaults(), "client_tls_sslmode", "require"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("edit the config file and RELOAD");
    }
}
