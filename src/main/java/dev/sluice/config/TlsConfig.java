package dev.sluice.config;

import io.netty.handler.ssl.SslContext;
import java.nio.file.Path;

// One side's TLS settings (client_tls_* or server_tls_*), and the SslContext built from their files.
/**
 * Client side (clients connecting to Sluice), as PgBouncer documents client_tls_sslmode: disable answers an
 * SSLRequest with 'N'; allow and prefer accept TLS when the client asks and plain text otherwise; require
 * refuses plain-text logins; verify-ca and verify-full also demand a client certificate signed by
 * client_tls_ca_file. Server side (Sluice connecting to PostgreSQL), libpq's sslmode: disable never asks;
 * allow and prefer ask and fall back to plain text on 'N' without checking the certificate; require
 * insists on TLS without checking it; verify-ca checks the chain against server_tls_ca_file (the JDK's
 * trusted CAs when unset); verify-full also the host name of the [databases] entry.
 *
 * @param keyFile   PEM private key (PKCS#8); client side: the key of certFile; server side: Sluice's own
 *                  client certificate's key, optional
 * @param protocols as written: secure, all, legacy, or a list of tlsv1.0 .. tlsv1.3
 * @param ciphers   as written: default/secure/normal/fast/all, or cipher suite names separated by ':'
 * @param context   built by the loader from the files; null when mode is disable or the files were bad
 * @param summary   one line about the certificate in use (subject, expiry), for logs and reload notes; "" when none
 */
public record TlsConfig(TlsMode mode, Path keyFile, Path certFile, Path caFile, String protocols, String ciphers,
        SslContext context, String summary) {

    public static final TlsConfig DISABLED = new TlsConfig(TlsMode.DISABLE, null, null, null, "secure", "default",
            null, "");

    public TlsConfig withMode(TlsMode m) {
        return new TlsConfig(m, keyFile, certFile, caFile, protocols, ciphers, context, summary);
    }

    public TlsConfig withKeyFile(Path p) {
        return new TlsConfig(mode, p, certFile, caFile, protocols, ciphers, context, summary);
    }

    public TlsConfig withCertFile(Path p) {
        return new TlsConfig(mode, keyFile, p, caFile, protocols, ciphers, context, summary);
    }

    public TlsConfig withCaFile(Path p) {
        return new TlsConfig(mode, keyFile, certFile, p, protocols, ciphers, context, summary);
    }

    public TlsConfig withProtocols(String p) {
        return new TlsConfig(mode, keyFile, certFile, caFile, p, ciphers, context, summary);
    }

    public TlsConfig withCiphers(String c) {
        return new TlsConfig(mode, keyFile, certFile, caFile, protocols, c, context, summary);
    }

    public TlsConfig withContext(SslContext c, String s) {
        return new TlsConfig(mode, keyFile, certFile, caFile, protocols, ciphers, c, s);
    }

    /** True when TLS can be used on this side: not disabled and the context was built. */
    public boolean enabled() {
        return mode != TlsMode.DISABLE && context != null;
    }
}
