package dev.sluice.backend;

import dev.sluice.auth.StoredSecret;
import dev.sluice.config.TcpKeepalive;
import dev.sluice.config.TlsConfig;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;

/**
 * What Sluice needs to open one server connection: where, as whom, with which secret, and the startup
 * parameters every server of the pool starts with. {@code scramKeys} carries a client's recovered SCRAM
 * ClientKey/ServerKey when auth_file holds only a SCRAM secret (PgBouncer-style passthrough). {@code tls} is
 * server_tls_* as it was when this connection was opened (a RELOAD affects the next connections only), and so is
 * {@code tcpKeepalive} (tcp_keepalive and its timings).
 */
public record ServerLogin(SocketAddress address, String description, String user, String database,
                          StoredSecret secret, ScramKeys scramKeys, Map<String, String> startupParameters,
                          Duration connectTimeout, long maxMessageSize, TlsConfig tls,
                          TcpKeepalive tcpKeepalive) {

    public record ScramKeys(byte[] clientKey, byte[] serverKey) {}
}
