package dev.sluice.config;

import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

// Builds the SslContexts of both TLS legs from the client_tls_*/server_tls_* files, reporting each problem at its line.
/**
 * Runs when the file is loaded (start, RELOAD, check-config), so a missing file, a key that does not belong
 * to its certificate or an unknown protocol stops the load with file:line instead of failing the first
 * handshake. Sluice uses the JDK's TLS (Netty's JDK provider); OpenSSL-only cipher expressions are
 * reported, not guessed at.
 */
final class TlsContexts {

    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final List<String> SECURE = List.of("TLSv1.2", "TLSv1.3");
    private static final List<String> ALL = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    /** PgBouncer's cipher keywords; the JDK's default suites play their part (they exclude weak ones). */
    private static final Set<String> CIPHER_KEYWORDS = Set.of("default", "secure", "normal", "fast", "all",
            "compat", "legacy", "insecure");

    private enum Side {
        CLIENT("client_tls_"), SERVER("server_tls_");

        final String prefix;

        Side(String prefix) {
            this.prefix = prefix;
        }
    }

    private TlsContexts() {
    }

    /** Builds both contexts; a side with errors keeps a null context (and the load fails). */
    static TlsSettings build(TlsSettings tls, Map<String, IniEntry> setAt, Problems problems) {
        return new TlsSettings(build(Side.CLIENT, tls.client(), setAt, problems),
                build(Side.SERVER, tls.server(), setAt, problems));
    }

    /** client_tls_protocols / server_tls_protocols in JDK names; throws with the choices on a bad word. */
    static List<String> protocols(String v) {
        Set<String> out = new LinkedHashSet<>();
        for (String word : v.strip().toLowerCase(Locale.ROOT).split("[,:\\s]+")) {
            switch (word) {
                case "secure", "default" -> out.addAll(SECURE);
                case "all", "legacy" -> out.addAll(ALL);
                case "tlsv1.0", "tlsv1" -> out.add("TLSv1");
                case "tlsv1.1" -> out.add("TLSv1.1");
                case "tlsv1.2" -> out.add("TLSv1.2");
                case "tlsv1.3" -> out.add("TLSv1.3");
                default -> throw new IllegalArgumentException(Values.quoted(word) + " is not a TLS protocol version; "
                        + "use secure (TLS 1.2 and 1.3, the default), all, or a list such as tlsv1.2,tlsv1.3");
            }
        }
        return List.copyOf(out);
    }

    /**
     * client_tls_ciphers / server_tls_ciphers as JDK suite names, or null for the JDK's defaults. Names may
     * be IANA (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or OpenSSL (ECDHE-RSA-AES128-GCM-SHA256) spellings.
     */
    static List<String> ciphers(String v) {
        String s = v.strip();
        if (s.isEmpty() || CIPHER_KEYWORDS.contains(s.toLowerCase(Locale.ROOT))) {
            return null;
        }
        Set<String> supported;
        try {
            supported = Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no TLS implementation", e);
        }
        List<String> out = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (String name : s.split("[:,\\s]+")) {
            if (name.isEmpty()) {
                continue;
            }
            if (name.startsWith("!") || name.startsWith("+") || name.startsWith("-") || name.startsWith("@")
                    || name.equals(name.toUpperCase(Locale.ROOT)) && !name.contains("_") && !name.contains("-")) {
                throw new IllegalArgumentException(Values.quoted(s) + " is an OpenSSL cipher expression ("
                        + name + "), which Sluice's TLS (the JDK's) does not evaluate; use default (the JDK's "
                        + "secure defaults) or list cipher suites by name, e.g. "
                        + "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256");
            }
            String java = name.startsWith("TLS_") || name.startsWith("SSL_") ? name
                    : CipherSuiteConverter.toJava(name, "TLS");
            if (java != null && supported.contains(java)) {
                out.add(java);
            } else {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown or unsupported cipher suite(s) " + String.join(", ", unknown)
                    + "; use suite names the JDK supports, e.g. TLS_AES_128_GCM_SHA256 or "
                    + "ECDHE-RSA-AES128-GCM-SHA256, or default");
        }
        return out;
    }

    private static TlsConfig build(Side side, TlsConfig c, Map<String, IniEntry> setAt, Problems problems) {
        if (c.mode() == TlsMode.DISABLE) {
            return c.withContext(null, "");
        }
        IniEntry modeAt = setAt.get(side.prefix + "sslmode");
        int before = problems.errorCount();
        String modeText = side.prefix + "sslmode = " + c.mode().configWord();
        List<X509Certificate> chain = null;
        PrivateKey key = null;
        List<X509Certificate> ca = null;
        if (side == Side.CLIENT && (c.keyFile() == null || c.certFile() == null)) {
            problems.error(modeAt, modeText + " needs client_tls_key_file and client_tls_cert_file (the private key "
                    + "and certificate Sluice presents to clients); set both, or use disable");
        }
        if (side == Side.SERVER && (c.keyFile() == null) != (c.certFile() == null)) {
            problems.error(setAt.get(side.prefix + (c.keyFile() == null ? "cert_file" : "key_file")),
                    "server_tls_key_file and server_tls_cert_file go together (Sluice's client certificate for "
                            + "PostgreSQL); set both or neither");
        }
        if (side == Side.CLIENT && c.mode().verifiesPeer() && c.caFile() == null) {
            problems.error(modeAt, modeText + " needs client_tls_ca_file: the CA that signs the client certificates "
                    + "Sluice accepts (use require to accept TLS clients without certificates)");
        }
        if (c.certFile() != null) {
            chain = read(problems, setAt.get(side.prefix + "cert_file"), () -> PemFiles.certificates(c.certFile()));
        }
        if (c.keyFile() != null) {
            key = read(problems, setAt.get(side.prefix + "key_file"), () -> PemFiles.privateKey(c.keyFile()));
        }
        if (c.caFile() != null) {
            ca = read(problems, setAt.get(side.prefix + "ca_file"), () -> PemFiles.certificates(c.caFile()));
        }
        if (key != null && chain != null && !PemFiles.matches(key, chain.get(0))) {
            problems.error(setAt.get(side.prefix + "key_file"), side.prefix + "key_file: " + c.keyFile()
                    + " is not the private key of the certificate in " + c.certFile() + " ("
                    + chain.get(0).getSubjectX500Principal().getName() + "); point both settings at the same pair");
        }
        List<String> protocols = null;
        List<String> ciphers = null;
        try {
            protocols = protocols(c.protocols());
        } catch (IllegalArgumentException e) {
            problems.error(setAt.get(side.prefix + "protocols"), side.prefix + "protocols: " + e.getMessage());
        }
        try {
            ciphers = ciphers(c.ciphers());
        } catch (IllegalArgumentException e) {
            problems.error(setAt.get(side.prefix + "ciphers"), side.prefix + "ciphers: " + e.getMessage());
        }
        if (problems.errorCount() > before) {
            return c.withContext(null, "");
        }
        if (chain != null) {
            warnIfExpired(problems, setAt.get(side.prefix + "cert_file"), side.prefix + "cert_file", chain.get(0));
        }
        try {
            SslContextBuilder b;
            if (side == Side.CLIENT) {
                b = SslContextBuilder.forServer(key, chain)
                        .clientAuth(c.mode().verifiesPeer() ? ClientAuth.REQUIRE : ClientAuth.NONE);
                if (c.mode().verifiesPeer()) {
                    b.trustManager(ca);
                }
            } else {
                b = SslContextBuilder.forClient();
                if (key != null) {
                    b.keyManager(key, chain);
                }
                if (!c.mode().verifiesPeer()) {
                    // prefer/require: encrypted but not authenticated, as libpq does without a root certificate.
                    b.trustManager(InsecureTrustManagerFactory.INSTANCE);
                } else if (ca != null) {
                    b.trustManager(ca);
                } // verify-* without server_tls_ca_file: the JDK's trusted CAs
                // Netty 4.2 checks host names by default; only verify-full asks for it.
                b.endpointIdentificationAlgorithm(c.mode() == TlsMode.VERIFY_FULL ? "HTTPS" : null);
            }
            b.sslProvider(SslProvider.JDK).protocols(protocols).ciphers(ciphers);
            String summary = chain == null ? "no certificate"
                    : chain.get(0).getSubjectX500Principal().getName() + ", expires "
                            + DAY.format(chain.get(0).getNotAfter().toInstant());
            return c.withContext(b.build(), summary);
        } catch (SSLException | IllegalArgumentException e) {
            problems.error(modeAt != null ? modeAt : setAt.get(side.prefix + "cert_file"),
                    side.prefix + "*: the TLS context cannot be built: " + e.getMessage());
            return c.withContext(null, "");
        }
    }

    private static void warnIfExpired(Problems problems, IniEntry at, String key, X509Certificate cert) {
        Instant notAfter = cert.getNotAfter().toInstant();
        if (notAfter.isBefore(Instant.now())) {
            problems.warn(at, key + ": the certificate " + cert.getSubjectX500Principal().getName() + " expired on "
                    + DAY.format(notAfter) + "; peers that check it will refuse the connection; renew it and RELOAD");
        }
    }

    private interface Reader<T> {
        T read();
    }

    private static <T> T read(Problems problems, IniEntry at, Reader<T> reader) {
        try {
            return reader.read();
        } catch (IllegalArgumentException e) {
            problems.error(at, at.key().toLowerCase(Locale.ROOT) + ": " + e.getMessage());
            return null;
        }
    }
}
