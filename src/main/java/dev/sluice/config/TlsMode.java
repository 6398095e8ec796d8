package dev.sluice.config;

import java.util.Optional;

// The sslmode words of client_tls_sslmode and server_tls_sslmode (PgBouncer's, which are libpq's).
/**
 * Ordered from weakest to strongest, so "at least require" is a comparison. What each mode means differs
 * by side (see {@link TlsConfig}): towards clients verify-ca/verify-full demand a client certificate,
 * towards PostgreSQL they verify the server's certificate (verify-full also its host name).
 */
public enum TlsMode {
    DISABLE("disable"),
    ALLOW("allow"),
    PREFER("prefer"),
    REQUIRE("require"),
    VERIFY_CA("verify-ca"),
    VERIFY_FULL("verify-full");

    private final String configWord;

    TlsMode(String configWord) {
        this.configWord = configWord;
    }

    public String configWord() {
        return configWord;
    }

    /** require, verify-ca, verify-full: plain text is refused. */
    public boolean requiresTls() {
        return compareTo(REQUIRE) >= 0;
    }

    /** verify-ca, verify-full: the peer's certificate chain is checked against the CA file. */
    public boolean verifiesPeer() {
        return compareTo(VERIFY_CA) >= 0;
    }

    public static Optional<TlsMode> fromConfigWord(String word) {
        for (TlsMode m : values()) {
            if (m.configWord.equalsIgnoreCase(word.strip())) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /** Parses a mode word or explains the choices. */
    static TlsMode parse(String v) {
        return fromConfigWord(v).orElseThrow(() -> new IllegalArgumentException(Values.quoted(v.strip())
                + " is not a TLS mode; use one of disable, allow, prefer, require, verify-ca, verify-full"));
    }
}
