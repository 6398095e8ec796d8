package dev.sluice.config;

// The TLS settings of both legs: towards clients (client_tls_*) and towards PostgreSQL (server_tls_*).
/**
 * One component of {@link Settings}, so the twelve TLS keys travel together. RELOAD builds new contexts
 * from the files; connections opened afterwards use them, connections already open keep theirs.
 */
public record TlsSettings(TlsConfig client, TlsConfig server) {

    public static final TlsSettings DISABLED = new TlsSettings(TlsConfig.DISABLED, TlsConfig.DISABLED);

    /** For check-config: what each leg does, in words. */
    public String describe() {
        String c = switch (client.mode()) {
            case DISABLE -> "plain text only (client_tls_sslmode = disable; an SSLRequest is answered N)";
            case ALLOW, PREFER -> "TLS when the client asks, plain text otherwise";
            case REQUIRE -> "TLS required; plain-text logins are refused (28000)";
            case VERIFY_CA, VERIFY_FULL -> "TLS required with a client certificate signed by " + client.caFile();
        };
        String s = switch (server.mode()) {
            case DISABLE -> "plain text (server_tls_sslmode = disable)";
            case ALLOW, PREFER -> "TLS when PostgreSQL offers it, plain text otherwise; certificate not checked";
            case REQUIRE -> "TLS required; certificate not checked";
            case VERIFY_CA -> "TLS required; certificate checked against "
                    + (server.caFile() == null ? "the JDK's trusted CAs" : server.caFile());
            case VERIFY_FULL -> "TLS required; certificate and host name checked against "
                    + (server.caFile() == null ? "the JDK's trusted CAs" : server.caFile());
        };
        return "TLS:\n  clients -> Sluice:    " + c + (client.enabled() ? "; certificate " + client.summary() : "")
                + "\n  Sluice -> PostgreSQL: " + s + " (never over Unix sockets)";
    }

    public TlsSettings withClient(TlsConfig c) {
        return new TlsSettings(c, server);
    }

    public TlsSettings withServer(TlsConfig s) {
        return new TlsSettings(client, s);
    }
}
