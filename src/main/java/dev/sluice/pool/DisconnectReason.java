package dev.sluice.pool;

/**
 * Stable, greppable reasons for every client or server disconnect and refusal. Logs print {@link #code()}
 * (e.g. {@code reason=query_wait_timeout}); operators grep for them, so never rename one.
 */
public enum DisconnectReason {
    // client side
    CLIENT_TERMINATE("client_terminate"),
    CLIENT_CLOSED("client_closed"),
    CLIENT_LOGIN_TIMEOUT("client_login_timeout"),
    CLIENT_IDLE_TIMEOUT("client_idle_timeout"),
    IDLE_TRANSACTION_TIMEOUT("idle_transaction_timeout"),
    QUERY_TIMEOUT("query_timeout"),
    TRANSACTION_TIMEOUT("transaction_timeout"),
    PROTOCOL_ERROR("protocol_error"),
    AUTH_FAILED("auth_failed"),
    NO_SUCH_USER("no_such_user"),
    NO_SUCH_DATABASE("no_such_database"),
    MAX_CLIENT_CONN("max_client_conn"),
    WORKLOAD_MAX_CLIENTS("workload_max_clients"),
    UNSUPPORTED_FEATURE("unsupported_feature"),
    SERVER_LOGIN_FAILED("server_login_failed"),
    SERVER_LOST("server_lost"),
    STARTUP_PARAMETER_REJECTED("startup_parameter_rejected"),
    SHUTDOWN("shutdown"),
    DATABASE_DISABLED("database_disabled"),
    ADMIN_ACCESS_DENIED("admin_access_denied"),
    ADMIN_KILL("admin_kill"),
    /** client_tls_sslmode is require or stronger and the client logged in without TLS. */
    TLS_REQUIRED("tls_required"),
    /** The client's TLS handshake failed (no or a bad client certificate, no common protocol, not TLS at all). */
    TLS_HANDSHAKE_FAILED("tls_handshake_failed"),
    MAX_STARTUP_CONNECTIONS("max_startup_connections"),
    AUTH_FAILURE_LIMIT("auth_failure_limit"),
    // server side
    SERVER_IDLE_TIMEOUT("server_idle_timeout"),
    SERVER_CHECK_FAILED("server_check_failed"),
    SERVER_LIFETIME("server_lifetime"),
    EVICTED("evicted_for_other_pool"),
    BUDGET_SHRANK("budget_shrank"),
    SERVER_CLOSED_BY_PEER("server_closed_by_peer"),
    SERVER_FATAL("server_fatal"),
    CLIENT_LEFT_MID_QUERY("client_left_mid_query"),
    CLEANUP_FAILED("cleanup_failed"),
    CONNECT_FAILED("connect_failed"),
    POOL_SHUTDOWN("pool_shutdown"),
    ADMIN_PAUSE("admin_pause"),
    ADMIN_RECONNECT("admin_reconnect"),
    POOL_SIZE_REDUCED("pool_size_reduced"),
    DATABASE_CHANGED("database_changed");

    private final String code;

    DisconnectReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    @Override
    public String toString() {
        return code;
    }
}
