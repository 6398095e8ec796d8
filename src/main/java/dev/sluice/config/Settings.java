package dev.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

// The global settings from [pgbouncer]/[sluice], with PgBouncer's defaults (and Sluice's where noted).
/**
 * Values of the [pgbouncer] (alias [sluice]) section. A Duration of zero means "disabled", as in
 * PgBouncer, with PgBouncer's own exceptions: server_lifetime 0 means a server connection is used once
 * and then closed, and server_check_delay 0 means the check query is run every time.
 *
 * @param listenAddr       as written, comma-separated addresses allowed; "*" means all addresses
 * @param authFile         resolved against the directory of the file that set it; null when not set
 * @param serverCheckQuery empty string disables the check
 * @param maxDbConnectionsAuto Sluice-only: {@code max_db_connections = auto}; then maxDbConnections is 0 and
 *                         the cap is the database budget read from the server (dev.sluice.guard)
 * @param budgetHeadroom   Sluice-only: slots of max_connections the budget leaves free (budget_headroom)
 * @param budgetCheckInterval Sluice-only: how often the budget monitor reads the server (budget_check_interval)
 * @param budgetUser       Sluice-only: the login the budget monitor uses; null = the [databases] entry's user=
 * @param budgetPassword   Sluice-only: its password; null = from auth_file (plain text only), or none
 * @param statsPeriod      how often the avg_* figures of SHOW STATS are recomputed (PgBouncer's stats_period)
 * @param shutdownWaitTimeout Sluice-only: on SIGTERM or SHUTDOWN, how long running transactions may take to
 *                         finish before their connections are closed anyway (PgBouncer waits without a limit)
 * @param statsListen      Sluice-only: the HTTP listener for metrics, health and the dashboard; null = off
 * @param workerThreads    Sluice-only: event-loop threads serving clients and servers; 0 = automatic
 *                         ({@link #effectiveWorkerThreads()})
 * @param tls              client_tls_* and server_tls_*, with the SslContexts built from their files
 * @param pinOnSessionState Sluice-only: in transaction mode, a client that creates session state it cannot
 *                         carry (temp table, LISTEN, advisory lock, ...) keeps its server until it disconnects
 * @param loginGuard       Sluice-only: max_startup_connections, auth_failure_delay, auth_failure_limit/_window
 * @param tcpKeepalive     tcp_keepalive, tcp_keepidle, tcp_keepintvl, tcp_keepcnt, tcp_user_timeout (both sides)
 */
public record Settings(String listenAddr, int listenPort, AuthType authType, Path authFile, PoolMode poolMode,
        int maxClientConn, int defaultPoolSize, int minPoolSize, int reservePoolSize, Duration reservePoolTimeout,
        int maxDbConnections, int maxUserConnections, Duration serverLifetime, Duration serverIdleTimeout,
        Duration serverConnectTimeout, Duration serverLoginRetry, Duration queryWaitTimeout, Duration queryTimeout,
        Duration clientIdleTimeout, Duration clientLoginTimeout, Duration idleTransactionTimeout,
        String serverResetQuery, boolean serverResetQueryAlways, String serverCheckQuery, Duration serverCheckDelay,
        List<String> adminUsers, List<String> statsUsers, boolean logConnections, boolean logDisconnections,
        List<String> ignoreStartupParameters, int maxClientMessageSize, int maxStartupPacketSize,
        long maxServerMessageSize, int maxPreparedStatements, Duration leakIdleAge, int leakMinConnections,
        Duration leakWindow, boolean maxDbConnectionsAuto, BudgetHeadroom budgetHeadroom, Duration budgetCheckInterval,
        String budgetUser, String budgetPassword, String unixSocketDir,
        Duration statsPeriod, Duration shutdownWaitTimeout, StatsListen statsListen,
        int workerThreads, TlsSettings tls,
        boolean pinOnSessionState, LoginGuardSettings loginGuard, TcpKeepalive tcpKeepalive) {

    public Settings {
        adminUsers = List.copyOf(adminUsers);
        statsUsers = List.copyOf(statsUsers);
        ignoreStartupParameters = List.copyOf(ignoreStartupParameters);
    }

    /** PgBouncer's defaults, except listen_addr (PgBouncer: Unix socket only) and the Sluice-only keys. */
    public static Settings defaults() {
        return new Settings(
                "127.0.0.1", 6432, AuthType.MD5, null, PoolMode.SESSION,
                100, 20, 0, 0, Duration.ofSeconds(5),
                0, 0, Duration.ofSeconds(3600), Duration.ofSeconds(600),
                Duration.ofSeconds(15), Duration.ofSeconds(15), Duration.ofSeconds(120), Duration.ZERO,
                Duration.ZERO, Duration.ofSeconds(60), Duration.ZERO,
                "DISCARD ALL", false, "select 1", Duration.ofSeconds(30),
                List.of(), List.of(), true, true,
                List.of(),
                (1 << 30) - 1, // max_client_message_size: 1 GiB - 1, PostgreSQL's own MaxAllocSize bound
                10_000,        // max_startup_packet_size: PostgreSQL refuses startup packets above 10000 bytes
                1L << 30,      // max_server_message_size: 1 GiB
                200,           // max_prepared_statements: PgBouncer's default since 1.22
                Duration.ofSeconds(10), 5, Duration.ofSeconds(30), // leak_idle_age, leak_min_connections, leak_window
                false,         // max_db_connections = auto: off, PgBouncer's meaning of max_db_connections
                BudgetHeadroom.DEFAULT, // budget_headroom: 5% of max_connections
                Duration.ofSeconds(5),  // budget_check_interval
                null, null,    // budget_user, budget_password
                "",            // unix_socket_dir: PgBouncer's default is /tmp; Sluice listens on a socket only when set
                Duration.ofSeconds(60),  // stats_period: PgBouncer's default
                Duration.ofSeconds(30),  // shutdown_wait_timeout (Sluice-only): a typical orchestrator grace period
                StatsListen.DEFAULT,     // stats_listen (Sluice-only): 127.0.0.1:9930
                0,                       // worker_threads (Sluice-only): automatic
                TlsSettings.DISABLED,    // client_tls_sslmode and server_tls_sslmode = disable
                false,                  // pin_on_session_state (Sluice-only): off, servers are reset instead
                LoginGuardSettings.DEFAULT, // max_startup_connections, auth_failure_* (Sluice-only)
                TcpKeepalive.DEFAULT);      // tcp_keepalive = 1, timings from the OS (PgBouncer's defaults)
    }

    /**
     * The event-loop threads to run: worker_threads, or half the processors (at least one) when it is 0.
     * Half, because a proxy shares its machine with the application or the database: measured on the
     * project's 2-core machine (docs/benchmarks.md), one loop beside pgbench and PostgreSQL spent about
     * half the CPU per transaction of two, whose threads each woke for fewer events and so context-switched
     * more. A machine given to Sluice alone can set it to the number of cores.
     */
    public int effectiveWorkerThreads() {
        return workerThreads > 0 ? workerThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }
}
