package dev.sluice.config;

// The TLS settings of both legs: towards clients (client_tls_*) and towards PostgreSQL (server_tls_*).
/**
 * One component of {@link Settings}, so the twelve TLS keys travel together. RELOAD builds new contexts
 * from the files; connections opened afterwards use them, connections already open keep theirs.
 */
public record TlsSettings(TlsConfig client, TlsConfig server) {

    public static final TlsSettings DISABLED = new TlsSettings(TlsConfig.DISABLED, TlsConfig.DISABLED);

    public TlsSettings withClient(TlsConfig c) {
        return new TlsSettings(c, server);
    }

    public TlsSettings withServer(TlsConfig s) {
        return new TlsSettings(client, s);
    }
}
