package dev.sluice.config;

/**
 * PgBouncer's TCP keepalive settings, applied to every TCP socket Sluice opens or accepts: client connections
 * and server connections to PostgreSQL (Unix sockets have no TCP). They are what notices a peer that vanished
 * without a FIN or RST (a host that lost power, a NAT or firewall that dropped the mapping, a failover): without
 * them a server connection whose PostgreSQL went away that way waits for the kernel's retransmission limit
 * (about 15 minutes) or, when idle, forever. Changed by RELOAD or SET for connections opened afterwards.
 *
 * @param enabled        SO_KEEPALIVE (tcp_keepalive, default on)
 * @param idleSeconds    TCP_KEEPIDLE: seconds of silence before the first probe (tcp_keepidle); 0 = the OS default
 * @param intervalSeconds TCP_KEEPINTVL: seconds between probes (tcp_keepintvl); 0 = the OS default
 * @param count          TCP_KEEPCNT: unanswered probes before the connection is dropped (tcp_keepcnt); 0 = OS default
 * @param userTimeoutMillis TCP_USER_TIMEOUT: how long sent data may stay unacknowledged before the connection is
 *                       dropped (tcp_user_timeout, milliseconds); 0 = the OS default. Linux only (epoll, io_uring)
 */
public record TcpKeepalive(boolean enabled, int idleSeconds, int intervalSeconds, int count, int userTimeoutMillis) {

    /** PgBouncer's defaults: keepalive on, with the operating system's timings. */
    public static final TcpKeepalive DEFAULT = new TcpKeepalive(true, 0, 0, 0, 0);

    /** Linux's bounds for TCP_KEEPIDLE and TCP_KEEPINTVL (seconds) and TCP_KEEPCNT: setsockopt refuses more. */
    static final int MAX_KEEPALIVE_SECONDS = 32767;
    static final int MAX_KEEPALIVE_COUNT = 127;

    TcpKeepalive withEnabled(boolean on) {
        return new TcpKeepalive(on, idleSeconds, intervalSeconds, count, userTimeoutMillis);
    }

    TcpKeepalive withIdleSeconds(int s) {
        return new TcpKeepalive(enabled, s, intervalSeconds, count, userTimeoutMillis);
    }

    TcpKeepalive withIntervalSeconds(int s) {
        return new TcpKeepalive(enabled, idleSeconds, s, count, userTimeoutMillis);
    }

    TcpKeepalive withCount(int n) {
        return new TcpKeepalive(enabled, idleSeconds, intervalSeconds, n, userTimeoutMillis);
    }

    TcpKeepalive withUserTimeoutMillis(int ms) {
        return new TcpKeepalive(enabled, idleSeconds, intervalSeconds, count, ms);
    }
}
