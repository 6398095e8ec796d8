package dev.sluice.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

// The implemented [pgbouncer] settings as the admin console shows (SHOW CONFIG) and changes (SET) them at run time.
/**
 * Values are rendered the way pgbouncer.ini writes them (durations in seconds, booleans 1/0), so a value
 * shown by SHOW CONFIG can be pasted back into the file or into SET. A SET is validated by the same parser
 * as the file, starting from the running settings.
 */
public final class SettingsTable {

    /** One row of SHOW CONFIG. {@code changeable}: SET and RELOAD apply it without a restart. */
    public record Row(String key, String value, String defaultValue, boolean changeable) {}

    /** The outcome of a SET: the new settings, and warnings (e.g. a recognised but unimplemented setting). */
    public record Change(Settings settings, List<String> warnings) {}

    /**
     * Settings a running Sluice cannot change: the listening sockets are bound once, at start, and the
     * leak detector and the database budget monitors are built then from their settings.
     */
    private static final Set<String> RESTART_ONLY = Set.of("listen_addr", "listen_port", "unix_socket_dir",
            "leak_idle_age",
            "leak_min_connections", "leak_window", "budget_headroom", "budget_check_interval", "budget_user",
            "budget_password", "stats_listen");

    private static final Map<String, Function<Settings, String>> RENDER = renderers();

    private SettingsTable() {
    }

    /** Every implemented setting, sorted by name, with its current and default value. */
    public static List<Row> rows(Settings current) {
        Settings defaults = Settings.defaults();
        List<Row> rows = new ArrayList<>();
        RENDER.forEach((key, render) -> rows.add(new Row(key, render.apply(current), render.apply(defaults),
                !RESTART_ONLY.contains(key))));
        return rows;
    }

    /** True for a setting Sluice knows (implemented or only recognised), as the config file would accept it. */
    public static boolean isKnown(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return RENDER.containsKey(k) || UnimplementedSettings.contains(k);
    }

    /**
     * Applies {@code key = value} to {@code current}, validated exactly like a line of the config file plus
     * the cross-check between min_pool_size and default_pool_size.
     *
     * @throws ConfigException with one problem when the key is unknown, not changeable at run time, or the
     *                         value is invalid; its message is fit to show to the operator
     */
    public static Change set(Settings current, String key, String value) throws ConfigException {
        String k = key.toLowerCase(Locale.ROOT);
        Path origin = Path.of("SET");
        if (RESTART_ONLY.contains(k)) {
            throw single(origin, k + " cannot be changed while Sluice runs ("
                    + (k.startsWith("listen") || k.startsWith("unix") ? "the listening socket is bound at start"
                            : "it is read once, at start") + "); edit the config file and restart");
        }
        if (k.equals("auth_file")) {
            throw single(origin, "auth_file is read when the config is loaded; edit the config file and RELOAD");
        }
        if (RENDER.containsKey(k) && (k.startsWith("client_tls_") || k.startsWith("server_tls_"))) {
            // The TLS settings are read together with their certificate files, which SET cannot check one by one.
            throw single(origin, k + " is applied with its certificate files when the config is loaded; edit the "
                    + "config file and RELOAD");
        }
        Problems problems = new Problems();
        SettingsParser parser = new SettingsParser(problems, current);
        parser.apply(new IniEntry("pgbouncer", k, value, origin, 0));
        Settings next = parser.build();
        if (!problems.hasErrors() && next.maxDbConnectionsAuto() != current.maxDbConnectionsAuto()) {
            problems.error(origin, 0, "switching max_db_connections to or from auto needs a restart (the budget "
                    + "monitors are started with the process)");
        }
        if (!problems.hasErrors() && next.minPoolSize() > next.defaultPoolSize()) {
            problems.error(origin, 0, "min_pool_size = " + next.minPoolSize() + " is larger than default_pool_size = "
                    + next.defaultPoolSize() + ": a pool cannot keep more connections open than it may have");
        }
        if (problems.hasErrors()) {
            throw problems.toException();
        }
        List<String> warnings = new ArrayList<>();
        for (ConfigProblem w : problems.warnings()) {
            warnings.add(w.message());
        }
        return new Change(next, warnings);
    }

    /**
     * The settings a reload may take from a freshly loaded file: everything except what needs a restart,
     * which keeps its running value. {@code notes} receives one line per setting kept.
     */
    public static Settings forReload(Settings running, Settings loaded, List<String> notes) {
        // Everything from the file, except what needs a restart, which keeps its running value.
        SettingsBuilder b = new SettingsBuilder(loaded);
        b.listenAddr = running.listenAddr();
        b.listenPort = running.listenPort();
        b.unixSocketDir = running.unixSocketDir();
        b.leakIdleAge = running.leakIdleAge();
        b.leakMinConnections = running.leakMinConnections();
        b.leakWindow = running.leakWindow();
        b.budgetHeadroom = running.budgetHeadroom();
        b.budgetCheckInterval = running.budgetCheckInterval();
        b.budgetUser = running.budgetUser();
        b.budgetPassword = running.budgetPassword();
        if (running.maxDbConnectionsAuto() != loaded.maxDbConnectionsAuto()) {
            notes.add("max_db_connections changed to or from auto; that takes effect after a restart");
            b.maxDbConnectionsAuto = running.maxDbConnectionsAuto();
            b.maxDbConnections = running.maxDbConnections();
        }
        Settings merged = b.build();
        List<Row> want = rows(loaded);
        List<Row> got = rows(merged);
        for (int i = 0; i < want.size(); i++) {
            if (RESTART_ONLY.contains(want.get(i).key()) && !want.get(i).value().equals(got.get(i).value())) {
                notes.add(want.get(i).key() + " changed from '" + got.get(i).value() + "' to '" + want.get(i).value()
                        + "'; it takes effect after a restart");
            }
        }
        return merged;
    }

    /** The same configuration with other global settings (after SET). */
    public static SluiceConfig withSettings(SluiceConfig cfg, Settings settings) {
        return new SluiceConfig(cfg.source(), settings, cfg.databases(), cfg.users(), cfg.authFile(),
                cfg.extraSections(), cfg.warnings());
    }

    private static ConfigException single(Path origin, String message) {
        return new ConfigException(List.of(new ConfigProblem(origin, 0, message)));
    }

    /** Seconds as pgbouncer.ini writes them: "120", "0.5". */
    static String seconds(Duration d) {
        return new BigDecimal(BigInteger.valueOf(d.toNanos())).divide(BigDecimal.valueOf(1_000_000_000L))
                .stripTrailingZeros().toPlainString();
    }

    private static String bool(boolean b) {
        return b ? "1" : "0";
    }

    private static void tls(Map<String, Function<Settings, String>> r, String prefix, Function<Settings, TlsConfig> side) {
        r.put(prefix + "sslmode", s -> side.apply(s).mode().configWord());
        r.put(prefix + "key_file", s -> path(side.apply(s).keyFile()));
        r.put(prefix + "cert_file", s -> path(side.apply(s).certFile()));
        r.put(prefix + "ca_file", s -> path(side.apply(s).caFile()));
        r.put(prefix + "protocols", s -> side.apply(s).protocols());
        r.put(prefix + "ciphers", s -> side.apply(s).ciphers());
    }

    private static String path(Path p) {
        return p == null ? "" : p.toString();
    }

    private static Map<String, Function<Settings, String>> renderers() {
        Map<String, Function<Settings, String>> r = new TreeMap<>();
        r.put("listen_addr", Settings::listenAddr);
        r.put("listen_port", s -> String.valueOf(s.listenPort()));
        r.put("auth_type", s -> s.authType().configWord());
        r.put("auth_file", s -> s.authFile() == null ? "" : s.authFile().toString());
        r.put("pool_mode", s -> s.poolMode().configWord());
        r.put("max_client_conn", s -> String.valueOf(s.maxClientConn()));
        r.put("default_pool_size", s -> String.valueOf(s.defaultPoolSize()));
        r.put("min_pool_size", s -> String.valueOf(s.minPoolSize()));
        r.put("reserve_pool_size", s -> String.valueOf(s.reservePoolSize()));
        r.put("reserve_pool_timeout", s -> seconds(s.reservePoolTimeout()));
        r.put("max_db_connections", s -> s.maxDbConnectionsAuto() ? "auto" : String.valueOf(s.maxDbConnections()));
        r.put("max_user_connections", s -> String.valueOf(s.maxUserConnections()));
        r.put("server_lifetime", s -> seconds(s.serverLifetime()));
        r.put("server_idle_timeout", s -> seconds(s.serverIdleTimeout()));
        r.put("server_connect_timeout", s -> seconds(s.serverConnectTimeout()));
        r.put("server_login_retry", s -> seconds(s.serverLoginRetry()));
        r.put("query_wait_timeout", s -> seconds(s.queryWaitTimeout()));
        r.put("query_timeout", s -> seconds(s.queryTimeout()));
        r.put("client_idle_timeout", s -> seconds(s.clientIdleTimeout()));
        r.put("client_login_timeout", s -> seconds(s.clientLoginTimeout()));
        r.put("idle_transaction_timeout", s -> seconds(s.idleTransactionTimeout()));
        r.put("server_reset_query", Settings::serverResetQuery);
        r.put("server_reset_query_always", s -> bool(s.serverResetQueryAlways()));
        r.put("server_check_query", Settings::serverCheckQuery);
        r.put("server_check_delay", s -> seconds(s.serverCheckDelay()));
        r.put("admin_users", s -> Values.listText(s.adminUsers()));
        r.put("stats_users", s -> Values.listText(s.statsUsers()));
        r.put("log_connections", s -> bool(s.logConnections()));
        r.put("log_disconnections", s -> bool(s.logDisconnections()));
        r.put("ignore_startup_parameters", s -> Values.listText(s.ignoreStartupParameters()));
        r.put("max_client_message_size", s -> String.valueOf(s.maxClientMessageSize()));
        r.put("max_startup_packet_size", s -> String.valueOf(s.maxStartupPacketSize()));
        r.put("max_server_message_size", s -> String.valueOf(s.maxServerMessageSize()));
        r.put("unix_socket_dir", s -> s.unixSocketDir() == null ? "" : s.unixSocketDir());
        r.put("max_prepared_statements", s -> String.valueOf(s.maxPreparedStatements()));
        r.put("leak_idle_age", s -> seconds(s.leakIdleAge()));
        r.put("leak_min_connections", s -> String.valueOf(s.leakMinConnections()));
        r.put("leak_window", s -> seconds(s.leakWindow()));
        r.put("budget_headroom", s -> s.budgetHeadroom().toString());
        r.put("budget_check_interval", s -> seconds(s.budgetCheckInterval()));
        r.put("budget_user", s -> s.budgetUser() == null ? "" : s.budgetUser());
        r.put("budget_password", s -> s.budgetPassword() == null ? "" : "********"); // never shown
        r.put("stats_period", s -> seconds(s.statsPeriod()));
        r.put("shutdown_wait_timeout", s -> seconds(s.shutdownWaitTimeout()));
        r.put("stats_listen", s -> s.statsListen() == null ? "off" : s.statsListen().toString());
        r.put("worker_threads", s -> String.valueOf(s.workerThreads()));
        tls(r, "client_tls_", s -> s.tls().client());
        tls(r, "server_tls_", s -> s.tls().server());
        r.put("pin_on_session_state", s -> bool(s.pinOnSessionState()));
        r.put("max_startup_connections", s -> String.valueOf(s.loginGuard().maxStartupConnections()));
        r.put("auth_failure_delay", s -> seconds(s.loginGuard().authFailureDelay()));
        r.put("auth_failure_limit", s -> String.valueOf(s.loginGuard().authFailureLimit()));
        r.put("auth_failure_window", s -> seconds(s.loginGuard().authFailureWindow()));
        r.put("tcp_keepalive", s -> bool(s.tcpKeepalive().enabled()));
        r.put("tcp_keepidle", s -> String.valueOf(s.tcpKeepalive().idleSeconds()));
        r.put("tcp_keepintvl", s -> String.valueOf(s.tcpKeepalive().intervalSeconds()));
        r.put("tcp_keepcnt", s -> String.valueOf(s.tcpKeepalive().count()));
        r.put("tcp_user_timeout", s -> String.valueOf(s.tcpKeepalive().userTimeoutMillis()));
        return java.util.Collections.unmodifiableMap(r);
    }
}
