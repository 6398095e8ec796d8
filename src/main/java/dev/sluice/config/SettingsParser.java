package dev.sluice.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The switch in {@link #apply} is the table of implemented settings; {@link UnimplementedSettings} holds
 * the PgBouncer settings Sluice only recognises. Anything in neither is an unknown key, an error.
 * When a key is set twice (typically once in a file and again in an %include), the later value wins, as
 * in PgBouncer, with a warning naming both places.
 */
// Applies [pgbouncer]/[sluice] lines to Settings, reporting bad values, unknown and ignored settings.
final class SettingsParser {

    /** Every key {@link #apply} implements; kept next to the switch so "did you mean" can see them. */
    private static final Set<String> IMPLEMENTED = Set.of(
            "listen_addr", "listen_port", "auth_type", "auth_file", "pool_mode", "max_client_conn",
            "default_pool_size", "min_pool_size", "reserve_pool_size", "reserve_pool_timeout",
            "max_db_connections", "max_user_connections", "server_lifetime", "server_idle_timeout",
            "server_connect_timeout", "server_login_retry", "query_wait_timeout", "query_timeout",
            "client_idle_timeout", "client_login_timeout", "idle_transaction_timeout", "server_reset_query",
            "server_reset_query_always", "server_check_query", "server_check_delay", "admin_users",
            "stats_users", "log_connections", "log_disconnections", "ignore_startup_parameters",
            "max_client_message_size", "max_startup_packet_size", "max_server_message_size",
            "max_prepared_statements", "leak_idle_age", "leak_min_connections", "leak_window",
            "budget_headroom", "budget_check_interval", "budget_user", "budget_password", "unix_socket_dir",
            "stats_period", "shutdown_wait_timeout", "stats_listen", "worker_threads",
            "client_tls_sslmode", "client_tls_key_file", "client_tls_cert_file", "client_tls_ca_file",
            "client_tls_protocols", "client_tls_ciphers", "server_tls_sslmode", "server_tls_ca_file",
            "server_tls_key_file", "server_tls_cert_file", "server_tls_protocols", "server_tls_ciphers",
            "pin_on_session_state", "max_startup_connections", "auth_failure_delay", "auth_failure_limit",
            "auth_failure_window", "tcp_keepalive", "tcp_keepidle", "tcp_keepintvl", "tcp_keepcnt",
            "tcp_user_timeout");

    private final Problems problems;
    private final SettingsBuilder builder;
    private final Map<String, IniEntry> setAt = new LinkedHashMap<>();
    private final Set<String> invalid = new HashSet<>();

    SettingsParser(Problems problems) {
        this(problems, Settings.defaults());
    }

    /** A parser whose unset keys keep the values of {@code base} (the running settings, for SET). */
    SettingsParser(Problems problems, Settings base) {
        this.problems = problems;
        this.builder = new SettingsBuilder(base);
    }

    /** Every implemented key. */
    static Set<String> implemented() {
        return IMPLEMENTED;
    }

    /** Where each setting was (last) set; absent keys kept their default. */
    Map<String, IniEntry> setAt() {
        return Collections.unmodifiableMap(setAt);
    }

    /** True when the (last) value given for {@code key} was rejected, so cross-checks should skip it. */
    boolean isInvalid(String key) {
        return invalid.contains(key);
    }

    Settings build() {
        return builder.build();
    }

    void apply(IniEntry e) {
        String key = e.key().toLowerCase(Locale.ROOT);
        String value = Values.unquote(e.value());
        if (!IMPLEMENTED.contains(key) && !UnimplementedSettings.contains(key)) {
            problems.error(e, "unknown setting '" + e.key() + "' in [" + e.section() + "]" + suggestion(key)
                    + "; remove it or fix the spelling");
            return;
        }
        IniEntry earlier = setAt.put(key, e);
        invalid.remove(key);
        if (earlier != null) {
            problems.warn(e, key + " is set again (first at " + earlier.source() + "); this later value wins");
        }
        try {
            if (IMPLEMENTED.contains(key)) {
                applyImplemented(key, value, e);
            } else {
                applyUnimplemented(key, value, e);
            }
        } catch (IllegalArgumentException ex) {
            invalid.add(key);
            problems.error(e, key + ": " + ex.getMessage());
        }
    }

    private void applyImplemented(String key, String v, IniEntry e) {
        SettingsBuilder b = builder;
        switch (key) {
            case "listen_addr" -> {
                if (Values.list(v).isEmpty()) {
                    problems.warn(e, "listen_addr is empty: PgBouncer would then accept only Unix-socket "
                            + "connections, but Sluice listens on TCP only, so it uses " + b.listenAddr
                            + "; set listen_addr explicitly to silence this");
                } else {
                    b.listenAddr = String.join(",", Values.list(v));
                }
            }
            case "listen_port" -> b.listenPort = Values.intInRange(v, 0, 65535); // 0: any free port (tests, `sluice dev --port 0`)
            case "auth_type" -> b.authType = parseAuthType(v);
            case "auth_file" -> b.authFile = v.isEmpty() ? null : resolve(e, v);
            case "pool_mode" -> b.poolMode = parsePoolMode(v);
            case "max_client_conn" -> b.maxClientConn = Values.intInRange(v, 1, Integer.MAX_VALUE);
            case "default_pool_size" -> b.defaultPoolSize = atLeastOne(v, "a pool of 0 could never serve a client");
            case "min_pool_size" -> b.minPoolSize = Values.nonNegativeInt(v);
            case "reserve_pool_size" -> b.reservePoolSize = Values.nonNegativeInt(v);
            case "reserve_pool_timeout" -> b.reservePoolTimeout = Values.duration(v);
            case "max_db_connections" -> {
                b.maxDbConnectionsAuto = isAuto(v);
                b.maxDbConnections = b.maxDbConnectionsAuto ? 0 : maxDbConnections(v);
            }
            case "max_user_connections" -> b.maxUserConnections = Values.nonNegativeInt(v);
            case "server_lifetime" -> b.serverLifetime = Values.duration(v);
            case "server_idle_timeout" -> b.serverIdleTimeout = Values.duration(v);
            case "server_connect_timeout" -> b.serverConnectTimeout = Values.duration(v);
            case "server_login_retry" -> b.serverLoginRetry = Values.duration(v);
            case "query_wait_timeout" -> b.queryWaitTimeout = Values.duration(v);
            case "query_timeout" -> b.queryTimeout = Values.duration(v);
            case "client_idle_timeout" -> b.clientIdleTimeout = Values.duration(v);
            case "client_login_timeout" -> b.clientLoginTimeout = Values.duration(v);
            case "idle_transaction_timeout" -> b.idleTransactionTimeout = Values.duration(v);
            case "server_reset_query" -> b.serverResetQuery = v;
            case "server_reset_query_always" -> b.serverResetQueryAlways = Values.bool(v);
            case "server_check_query" -> b.serverCheckQuery = v;
            case "server_check_delay" -> b.serverCheckDelay = Values.duration(v);
            case "admin_users" -> b.adminUsers = Values.list(v);
            case "stats_users" -> b.statsUsers = Values.list(v);
            case "log_connections" -> b.logConnections = Values.bool(v);
            case "log_disconnections" -> b.logDisconnections = Values.bool(v);
            case "ignore_startup_parameters" -> b.ignoreStartupParameters = Values.list(v);
            case "max_client_message_size" -> b.maxClientMessageSize = (int) sizeInRange(v, 1024, Integer.MAX_VALUE);
            case "max_startup_packet_size" -> b.maxStartupPacketSize = (int) sizeInRange(v, 1024, (1 << 30) - 1);
            case "max_server_message_size" -> b.maxServerMessageSize = sizeInRange(v, 1024, Long.MAX_VALUE);
            case "max_prepared_statements" -> b.maxPreparedStatements = Values.intInRange(v, 0, 100_000);
            case "leak_idle_age" -> b.leakIdleAge = Values.duration(v);
            case "leak_min_connections" -> b.leakMinConnections = Values.intInRange(v, 1, 1_000_000);
            case "leak_window" -> b.leakWindow = Values.duration(v);
            case "budget_headroom" -> b.budgetHeadroom = BudgetHeadroom.parse(v);
            case "budget_check_interval" -> b.budgetCheckInterval = budgetCheckInterval(v);
            case "budget_user" -> b.budgetUser = v.isBlank() ? null : v.strip();
            case "budget_password" -> b.budgetPassword = v.isEmpty() ? null : v;
            case "unix_socket_dir" -> b.unixSocketDir = v.strip();
            case "stats_period" -> b.statsPeriod = atLeastOneSecond(v);
            case "shutdown_wait_timeout" -> b.shutdownWaitTimeout = Values.duration(v);
            case "stats_listen" -> b.statsListen = StatsListen.parse(v);
            case "worker_threads" -> b.workerThreads = Values.intInRange(v, 0, 1024);
            // TLS: syntax here; the files are read once every key is known (TlsContexts, after parsing).
            case "client_tls_sslmode" -> b.tls = b.tls.withClient(b.tls.client().withMode(TlsMode.parse(v)));
            case "client_tls_key_file" -> b.tls = b.tls.withClient(b.tls.client().withKeyFile(optionalPath(e, v)));
            case "client_tls_cert_file" -> b.tls = b.tls.withClient(b.tls.client().withCertFile(optionalPath(e, v)));
            case "client_tls_ca_file" -> b.tls = b.tls.withClient(b.tls.client().withCaFile(optionalPath(e, v)));
            case "client_tls_protocols" -> b.tls = b.tls.withClient(b.tls.client().withProtocols(tlsProtocols(v)));
            case "client_tls_ciphers" -> b.tls = b.tls.withClient(b.tls.client().withCiphers(tlsCiphers(v)));
            case "server_tls_sslmode" -> b.tls = b.tls.withServer(b.tls.server().withMode(TlsMode.parse(v)));
            case "server_tls_key_file" -> b.tls = b.tls.withServer(b.tls.server().withKeyFile(optionalPath(e, v)));
            case "server_tls_cert_file" -> b.tls = b.tls.withServer(b.tls.server().withCertFile(optionalPath(e, v)));
            case "server_tls_ca_file" -> b.tls = b.tls.withServer(b.tls.server().withCaFile(optionalPath(e, v)));
            case "server_tls_protocols" -> b.tls = b.tls.withServer(b.tls.server().withProtocols(tlsProtocols(v)));
            case "server_tls_ciphers" -> b.tls = b.tls.withServer(b.tls.server().withCiphers(tlsCiphers(v)));
            case "pin_on_session_state" -> b.pinOnSessionState = Values.bool(v);
            case "max_startup_connections" -> b.loginGuard = b.loginGuard.withMaxStartupConnections(
                    Values.intInRange(v, 0, Integer.MAX_VALUE));
            case "auth_failure_delay" -> b.loginGuard = b.loginGuard.withAuthFailureDelay(authFailureDelay(v));
            case "auth_failure_limit" -> b.loginGuard = b.loginGuard.withAuthFailureLimit(
                    Values.intInRange(v, 0, 1_000_000));
            case "auth_failure_window" -> b.loginGuard = b.loginGuard.withAuthFailureWindow(
                    authFailureWindow(v));
            case "tcp_keepalive" -> b.tcpKeepalive = b.tcpKeepalive.withEnabled(Values.bool(v));
            case "tcp_keepidle" -> b.tcpKeepalive = b.tcpKeepalive.withIdleSeconds(
                    optionalInt(v, TcpKeepalive.MAX_KEEPALIVE_SECONDS));
            case "tcp_keepintvl" -> b.tcpKeepalive = b.tcpKeepalive.withIntervalSeconds(
                    optionalInt(v, TcpKeepalive.MAX_KEEPALIVE_SECONDS));
            case "tcp_keepcnt" -> b.tcpKeepalive = b.tcpKeepalive.withCount(
                    optionalInt(v, TcpKeepalive.MAX_KEEPALIVE_COUNT));
            case "tcp_user_timeout" -> b.tcpKeepalive = b.tcpKeepalive.withUserTimeoutMillis(
                    optionalInt(v, Integer.MAX_VALUE));
            default -> throw new IllegalStateException("IMPLEMENTED lists " + key + " but apply does not handle it");
        }
    }

    private void applyUnimplemented(String key, String v, IniEntry e) {
        UnimplementedSettings.warningFor(key, v).ifPresent(w -> problems.warn(e, w));
    }

    /** A number where empty means 0, "use the operating system's default" (old pgbouncer.ini files write it so). */
    private static int optionalInt(String v, int max) {
        return v.isBlank() ? 0 : Values.intInRange(v, 0, max);
    }

    /** A file setting: empty means not set; a relative name is taken from the including file's directory. */
    private static Path optionalPath(IniEntry e, String v) {
        return v.isBlank() ? null : resolve(e, v.strip());
    }

    /** Checked now so a typo is reported at its line; kept as written for SHOW CONFIG. */
    private static String tlsProtocols(String v) {
        TlsContexts.protocols(v);
        return v.strip();
    }

    private static String tlsCiphers(String v) {
        TlsContexts.ciphers(v);
        return v.strip();
    }

    /** Parses a pool_mode word; statement pooling is recognised only to refuse it clearly. */
    static PoolMode parsePoolMode(String v) {
        PoolMode mode = PoolMode.fromConfigWord(v).orElseThrow(() -> new IllegalArgumentException(
                Values.quoted(v) + " is not a pool mode; use session or transaction"));
        if (mode == PoolMode.STATEMENT) {
            throw new IllegalArgumentException("statement pooling is not supported by Sluice (it breaks every "
                    + "multi-statement transaction); use transaction, which releases the server connection after "
                    + "each transaction, or session");
        }
        return mode;
    }

    /** max_db_connections = auto (any case): the cap is the database budget read from the server. */
    static boolean isAuto(String v) {
        return v.strip().equalsIgnoreCase("auto");
    }

    /** A max_db_connections number; the message also names auto, so a typo in it is not a riddle. */
    static int maxDbConnections(String v) {
        String n = v.strip();
        if (!n.matches("\\+?[0-9]+")) {
            throw new IllegalArgumentException(Values.quoted(n) + " is neither a number of connections nor auto; "
                    + "use 0 (no cap), a number, or auto (the server's max_connections minus its reserved slots, "
                    + "the connections that bypass Sluice and budget_headroom)"
                    + (n.contains(";") || n.contains("#") ? " (';' and '#' start a comment only at the beginning "
                    + "of a line)" : ""));
        }
        return Values.nonNegativeInt(n);
    }

    /** At least a second: the check is cheap, but reading pg_stat_activity in a loop would not be. */
    private static Duration budgetCheckInterval(String v) {
        Duration d = Values.duration(v);
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(v.strip() + " is too short: the budget is read from the server at "
                    + "most once a second; use 1s or more (default 5s)");
        }
        return d;
    }

    private static AuthType parseAuthType(String v) {
        String word = v.strip().toLowerCase(Locale.ROOT);
        if (word.equals("ldap") || word.equals("crypt") || word.equals("gss")) {
            throw new IllegalArgumentException(word + " is not supported by Sluice; use md5 or scram-sha-256 "
                    + "with auth_file");
        }
        AuthType type = AuthType.fromConfigWord(word).orElseThrow(() -> new IllegalArgumentException(
                Values.quoted(v) + " is not an authentication type; use one of trust, any, plain, md5, "
                        + "scram-sha-256 (PgBouncer also has cert, hba, pam, ldap)"));
        if (type == AuthType.HBA || type == AuthType.CERT || type == AuthType.PAM) {
            throw new IllegalArgumentException(type.configWord() + " is not supported by Sluice yet; use md5 or "
                    + "scram-sha-256 with auth_file (or trust for local testing)");
        }
        return type;
    }

    private static int atLeastOne(String v, String why) {
        int n = Values.nonNegativeInt(v);
        if (n < 1) {
            throw new IllegalArgumentException(v.strip() + " is too small: " + why + "; use 1 or more");
        }
        return n;
    }

    private static java.time.Duration atLeastOneSecond(String v) {
        java.time.Duration d = Values.duration(v);
        if (d.compareTo(java.time.Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(v.strip() + " is too short: averages need a period of 1s or more");
        }
        return d;
    }

    private static Duration authFailureWindow(String v) {
        Duration d = Values.duration(v);
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException(v.strip() + " is too short: failed logins are counted over a window "
                    + "of 1s or more (default 60s)");
        }
        return d;
    }

    /** A failed login holds its connection (and a max_startup_connections slot) that long: a minute at most. */
    private static Duration authFailureDelay(String v) {
        Duration d = Values.duration(v);
        if (d.compareTo(Duration.ofMinutes(1)) > 0) {
            throw new IllegalArgumentException(v.strip() + " is too long: each failed login keeps its connection "
                    + "open that long; use up to 60s (default 1s, 0 = answer at once)");
        }
        return d;
    }

    private static long sizeInRange(String v, long min, long max) {
        long n = Values.size(v);
        if (n < min || n > max) {
            throw new IllegalArgumentException(v.strip() + " is out of range; use a size from " + min + " bytes"
                    + (max == Long.MAX_VALUE ? " up" : " to " + max + " bytes"));
        }
        return n;
    }

    /** Relative paths are taken from the directory of the file that contains the line. */
    private static Path resolve(IniEntry e, String v) {
        try {
            Path p = Path.of(v);
            return p.isAbsolute() || e.file().getParent() == null ? p : e.file().getParent().resolve(p);
        } catch (InvalidPathException ex) {
            throw new IllegalArgumentException(Values.quoted(v) + " is not a valid file name (" + ex.getReason() + ")");
        }
    }

    /** " (did you mean 'x'?)" when a known setting is one or two edits away. */
    private static String suggestion(String key) {
        Set<String> known = new TreeSet<>(IMPLEMENTED);
        known.addAll(UnimplementedSettings.keys());
        String best = null;
        int bestDistance = 3;
        for (String candidate : known) {
            int d = editDistance(key, candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
