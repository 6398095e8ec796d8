package dev.sluice.guard;

import dev.sluice.config.BudgetHeadroom;
import dev.sluice.config.BudgetTarget;
import dev.sluice.config.Settings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one server's connection budget: every {@code interval} it reads max_connections,
 * superuser_reserved_connections and reserved_connections (PostgreSQL 16+) from pg_settings, and the client
 * backends in pg_stat_activity that are neither its own connection nor one of Sluice's server connections
 * (the PIDs {@code ownPids} returns). Those are the connections that bypass Sluice; they are grouped by
 * application_name, user and client address.
 *
 * <p>Threading: all reading happens on one daemon thread of its own, because JDBC blocks; never on a
 * Netty event loop. {@code ownPids} and the listener are called on that thread, so {@code ownPids} must
 * be safe to call from it, and the listener must hand work to the event loops rather than touch pools.
 *
 * <p>The monitoring connection stays open between checks (so it keeps its slot when the server fills up)
 * and is reopened on the next check after any failure. Failures never escape: they are logged once per
 * change of state, and the last good reading stays in the snapshot, marked stale.
 *
 * <p>A Sluice connection counts as its own from the moment its PID is known (BackendKeyData). The PID sets
 * from just before and just after the query, and from the previous check, are all excluded, so
 * connections that Sluice opens or closes around a check are not mistaken for bypassing ones; only a
 * login still between PostgreSQL's session start and its BackendKeyData at that instant can be.
 */
// Watches one PostgreSQL server: its connection budget and the connections that do not come through Sluice.
public final class BudgetMonitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BudgetMonitor.class);

    /** application_name of the monitoring connection, so DBAs can tell it apart in pg_stat_activity. */
    public static final String APPLICATION_NAME = "sluice budget monitor";

    private static final int MAX_GROUPS_LOGGED = 10;
    private static final String SETTINGS_SQL = "SELECT name, setting FROM pg_settings WHERE name IN "
            + "('max_connections', 'superuser_reserved_connections', 'reserved_connections')";
    private static final String SESSION_SQL = "SELECT current_setting('server_version'), "
            + "pg_has_role('pg_read_all_stats', 'USAGE')";
    // backend_type, client_addr and backend_start are NULL in rows the login may not see in full; datid,
    // usesysid and application_name are visible to every role. A client backend always has a database and
    // a user; the logical replication launcher, for one, has a user but no database.
    private static final String ACTIVITY_SQL = "SELECT pid, backend_type, datid IS NOT NULL AND usesysid IS NOT NULL, usename, "
            + "application_name, host(client_addr), backend_start FROM pg_stat_activity WHERE pid <> pg_backend_pid()";

    private final BudgetTarget target;
    /** server_tls_* for the monitoring connection, or null for pgjdbc's defaults. */
    private final dev.sluice.config.TlsConfig tls;
    private final BudgetHeadroom headroom;
    private final Duration interval;
    private final Duration connectTimeout;
    private final Supplier<? extends Set<Integer>> ownPids;
    private final Consumer<BudgetSnapshot> listener;
    private final Clock clock = Clock.systemUTC();
    private final ScheduledExecutorService executor;

    private volatile BudgetSnapshot snapshot;
    /** Opened and used only on the monitor thread; close() aborts it from outside to unblock a stuck read. */
    private volatile Connection connection;
    private volatile boolean closed;
    private boolean started;

    // Monitor-thread state: what was logged last, so each change is logged once.
    private Set<Integer> previousOwn = Set.of();
    private String errorState;
    private Instant failingSince;
    private boolean seesAllSessions = true;
    private String serverVersion;
    private boolean warnedHidden;
    private ServerCapacity loggedCapacity;
    private List<BypassGroup> loggedBypass = List.of();

    /**
     * @param ownPids        PIDs (from BackendKeyData) of Sluice's server connections to this server;
     *                       called on the monitor thread, must be thread-safe and cheap
     * @param connectTimeout connect + login timeout of the monitoring connection
     * @param listener       called on the monitor thread after every check, success or not; may be null
     */
    public BudgetMonitor(BudgetTarget target, BudgetHeadroom headroom, Duration interval, Duration connectTimeout,
            Supplier<? extends Set<Integer>> ownPids, Consumer<BudgetSnapshot> listener) {
        this(target, headroom, interval, connectTimeout, null, ownPids, listener);
    }

    /** @param tls server_tls_* for the monitor's own connection; null leaves pgjdbc's default (prefer) */
    public BudgetMonitor(BudgetTarget target, BudgetHeadroom headroom, Duration interval, Duration connectTimeout,
            dev.sluice.config.TlsConfig tls, Supplier<? extends Set<Integer>> ownPids,
            Consumer<BudgetSnapshot> listener) {
        this.tls = tls;
        this.target = Objects.requireNonNull(target, "target");
        this.headroom = Objects.requireNonNull(headroom, "headroom");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the check interval must be positive");
        }
        this.interval = interval;
        this.connectTimeout = connectTimeout.isZero() || connectTimeout.isNegative()
                ? Duration.ofSeconds(15) : connectTimeout;
        this.ownPids = Objects.requireNonNull(ownPids, "ownPids");
        this.listener = listener;
        this.snapshot = BudgetSnapshot.initial(target.server());
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sluice-budget-" + target.server());
            t.setDaemon(true);
            return t;
        });
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.executor = ex;
    }

    /** A monitor with the budget_* settings and server_connect_timeout of {@code settings}. */
    public static BudgetMonitor forTarget(BudgetTarget target, Settings settings, Supplier<? extends Set<Integer>> ownPids,
            Consumer<BudgetSnapshot> listener) {
        return new BudgetMonitor(target, settings.budgetHeadroom(), settings.budgetCheckInterval(),
                settings.serverConnectTimeout(), settings.tls().server(), ownPids, listener);
    }

    public BudgetTarget target() {
        return target;
    }

    /** Starts checking now and then every interval; a second call does nothing. */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        executor.scheduleWithFixedDelay(this::checkSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The latest snapshot; never null (before the first check it is known = false). */
    public BudgetSnapshot snapshot() {
        return snapshot;
    }

    /**
     * Runs a check now, on the monitor thread, after any check in progress; completes with its snapshot.
     * Useful after a server login failed with "too many clients", and in tests. Works without start().
     * After close() it completes at once with the last snapshot.
     */
    public CompletableFuture<BudgetSnapshot> refresh() {
        if (closed) {
            return CompletableFuture.completedFuture(snapshot);
        }
        try {
            return CompletableFuture.supplyAsync(this::checkSafely, executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(snapshot);
        }
    }

    /** Stops checking and closes the monitoring connection; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        executor.shutdownNow();
        Connection c = connection;
        if (c != null) {
            try {
                c.abort(Runnable::run); // closes the socket without waiting for a read in progress
            } catch (SQLException | RuntimeException e) {
                log.debug("budget monitor: aborting the connection to {} failed", target.server(), e);
            }
        }
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeConnection();
    }

    // ---- the check, on the monitor thread ----

    private BudgetSnapshot checkSafely() {
        if (closed) {
            return snapshot;
        }
        BudgetSnapshot s;
        try {
            s = check();
        } catch (RuntimeException e) {
            // A bug, not a server problem; the schedule must go on, so it is reported like a failed check.
            log.warn("budget monitor: checking {} failed unexpectedly", target.server(), e);
            s = failed(clock.instant(), "unexpected " + e, e.getClass().getName());
        }
        snapshot = s;
        if (listener != null) {
            try {
                listener.accept(s);
            } catch (RuntimeException e) {
                log.warn("budget monitor: the listener for {} failed", target.server(), e);
            }
        }
        return s;
    }

    /**
     * A row of pg_stat_activity; backendType, clientAddress and backendStart are null when hidden.
     * {@code session}: the row has a database and a user, as every client backend does.
     */
    private record Activity(int pid, String backendType, boolean session, String user, String applicationName,
            String clientAddress, Instant backendStart) {
    }

    private record GroupKey(String applicationName, String user, String clientAddress, boolean hidden) {
    }

    private BudgetSnapshot check() {
        Instant now = clock.instant();
        int maxConnections;
        int superuserReserved;
        int reserved;
        List<Activity> rows = new ArrayList<>();
        Set<Integer> ownBefore;
        try {
            ownBefore = Set.copyOf(ownPids.get());
        } catch (RuntimeException e) {
            return failed(now, "reading Sluice's own connections failed: " + e, e.getClass().getName());
        }
        try {
            Connection c = connection();
            Map<String, Integer> settings = new LinkedHashMap<>();
            try (Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery(SETTINGS_SQL)) {
                    while (rs.next()) {
                        settings.put(rs.getString(1), Integer.parseInt(rs.getString(2).strip()));
                    }
                }
                try (ResultSet rs = st.executeQuery(ACTIVITY_SQL)) {
                    while (rs.next()) {
                        OffsetDateTime start = rs.getObject(7, OffsetDateTime.class);
                        rows.add(new Activity(rs.getInt(1), rs.getString(2), rs.getBoolean(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), start == null ? null : start.toInstant()));
                    }
                }
            }
            if (!settings.containsKey("max_connections")) {
                throw new SQLException("pg_settings has no max_connections");
            }
            maxConnections = settings.get("max_connections");
            superuserReserved = settings.getOrDefault("superuser_reserved_connections", 0);
            reserved = settings.getOrDefault("reserved_connections", 0); // before PostgreSQL 16: no such setting
        } catch (SQLException | RuntimeException e) {
            closeConnection();
            return failed(now, describe(e), e.getClass().getName()
                    + (e instanceof SQLException sql ? " " + sql.getSQLState() : ""));
        }
        Set<Integer> ownAfter;
        try {
            ownAfter = Set.copyOf(ownPids.get());
        } catch (RuntimeException e) {
            return failed(now, "reading Sluice's own connections failed: " + e, e.getClass().getName());
        }
        // Connections Sluice opened or closed around this query, or that existed at the previous check,
        // are its own: a backend that is still exiting, or whose PID Sluice learned a moment after
        // PostgreSQL listed it, must not be reported as bypassing.
        Set<Integer> own = new HashSet<>(previousOwn);
        own.addAll(ownBefore);
        own.addAll(ownAfter);

        int sluice = 0;
        Map<GroupKey, int[]> counts = new LinkedHashMap<>();
        Map<GroupKey, Instant> oldest = new LinkedHashMap<>();
        for (Activity a : rows) {
            boolean client = "client backend".equals(a.backendType());
            // A row the login may not see in full has no backend_type; with a database and a user it may be
            // a client backend (or a parallel worker), and counting it is the side that cannot let the
            // server fill up.
            boolean hidden = a.backendType() == null && a.session();
            if (!client && !hidden) {
                continue; // autovacuum, walsender, background workers: not in max_connections' slots
            }
            if (own.contains(a.pid())) {
                sluice++;
                continue;
            }
            GroupKey key = new GroupKey(nullToEmpty(a.applicationName()), nullToEmpty(a.user()),
                    hidden ? null : (a.clientAddress() == null ? "local" : a.clientAddress()), hidden);
            counts.computeIfAbsent(key, k -> new int[1])[0]++;
            if (a.backendStart() != null) {
                oldest.merge(key, a.backendStart(), (x, y) -> x.isBefore(y) ? x : y);
            }
        }
        List<BypassGroup> groups = new ArrayList<>();
        int bypassing = 0;
        for (Map.Entry<GroupKey, int[]> e : counts.entrySet()) {
            GroupKey k = e.getKey();
            groups.add(new BypassGroup(k.applicationName(), k.user(), k.clientAddress(), k.hidden(), e.getValue()[0],
                    oldest.get(k)));
            bypassing += e.getValue()[0];
        }
        groups.sort(Comparator.comparingInt(BypassGroup::count).reversed()
                .thenComparing(BypassGroup::applicationName).thenComparing(BypassGroup::user)
                .thenComparing(g -> g.clientAddress() == null ? "" : g.clientAddress()));
        Set<Integer> seen = new HashSet<>(ownBefore);
        seen.addAll(ownAfter);
        previousOwn = seen;

        ServerCapacity capacity = new ServerCapacity(maxConnections, superuserReserved, reserved, bypassing, 1,
                headroom.connections(maxConnections));
        recovered(now);
        logChanges(capacity, groups);
        return new BudgetSnapshot(target.server(), capacity, groups, sluice, seesAllSessions, serverVersion, now,
                null, null);
    }

    /** The open monitoring connection, or a new one (then the session facts are read once). */
    private Connection connection() throws SQLException {
        Connection c = connection;
        if (c != null) {
            return c;
        }
        Properties props = new Properties();
        props.setProperty("user", target.user());
        if (target.password() != null) {
            props.setProperty("password", target.password());
        }
        props.setProperty("ApplicationName", APPLICATION_NAME);
        long connectSeconds = Math.max(1, (connectTimeout.toMillis() + 999) / 1000);
        props.setProperty("connectTimeout", Long.toString(connectSeconds));
        props.setProperty("loginTimeout", Long.toString(connectSeconds));
        // A server that stops answering must not stall the monitor forever: the read gives up, the
        // connection is dropped and the next check opens a new one.
        props.setProperty("socketTimeout", Long.toString(Math.max(10, 2 * interval.toSeconds())));
        props.setProperty("tcpKeepAlive", "true");
        if (tls != null) {
            // The monitor's login follows server_tls_sslmode like Sluice's own server connections (pgjdbc
            // reads only DER keys, so server_tls_key_file/cert_file are not presented by the monitor).
            props.setProperty("sslmode", tls.mode().configWord());
            if (tls.caFile() != null) {
                props.setProperty("sslrootcert", tls.caFile().toString());
            } else if (tls.mode().verifiesPeer()) {
                props.setProperty("sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory"); // the JDK's trusted CAs
            }
        }
        String host = target.host().contains(":") ? "[" + target.host() + "]" : target.host();
        String url = "jdbc:postgresql://" + host + ":" + target.port() + "/"
                + URLEncoder.encode(target.dbname(), StandardCharsets.UTF_8);
        c = new org.postgresql.Driver().connect(url, props);
        if (c == null) {
            throw new SQLException("pgjdbc did not accept " + url);
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SESSION_SQL)) {
            rs.next();
            serverVersion = rs.getString(1);
            seesAllSessions = rs.getBoolean(2);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        connection = c;
        if (closed) { // close() ran while we were connecting
            closeConnection();
            throw new SQLException("the budget monitor is closed");
        }
        log.info("budget monitor: connected to {} (PostgreSQL {}) as {} on database {} ({})", target.server(),
                serverVersion, target.user(), target.dbname(), target.loginFrom());
        if (!seesAllSessions && !warnedHidden) {
            warnedHidden = true;
            log.warn("budget monitor: {} on {} may not see other roles' session details, so their bypassing "
                    + "connections are counted with addr=hidden; GRANT pg_read_all_stats TO {} to see them",
                    target.user(), target.server(), quoteIdent(target.user()));
        }
        return c;
    }

    private void closeConnection() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException | RuntimeException e) {
                log.debug("budget monitor: closing the connection to {} failed", target.server(), e);
            }
        }
    }

    /**
     * Keeps the last good reading and adds the error; logs it when the kind of failure ({@code state}:
     * exception class and SQLSTATE, not the message, which may carry changing details) changed.
     */
    private BudgetSnapshot failed(Instant now, String error, String state) {
        BudgetSnapshot last = snapshot;
        if (closed) {
            return last; // the abort in close() makes a check in progress fail: nothing to report
        }
        if (!state.equals(errorState)) {
            if (errorState == null) {
                failingSince = now;
            }
            errorState = state;
            log.warn("budget monitor: cannot read {}: {}; {}", target.server(), error, last.isKnown()
                    ? "keeping the reading from " + BudgetSnapshot.seconds(last.age(now)) + " ago ("
                            + last.capacity().explain() + ") until it can read again"
                    : "no budget is known for it yet");
        }
        return new BudgetSnapshot(last.server(), last.capacity(), last.bypass(), last.sluiceConnections(),
                last.seesAllSessions(), last.serverVersion(), last.takenAt(), error, now);
    }

    private void recovered(Instant now) {
        if (errorState != null) {
            log.info("budget monitor: reading {} again after {} of failures", target.server(),
                    BudgetSnapshot.seconds(Duration.between(failingSince, now)));
            errorState = null;
            failingSince = null;
        }
    }

    private void logChanges(ServerCapacity capacity, List<BypassGroup> groups) {
        if (!capacity.equals(loggedCapacity)) {
            log.info("budget on {}: {}", target.server(), capacity.explain());
            loggedCapacity = capacity;
        }
        List<String> now = groups.stream().map(BypassGroup::describe).toList();
        List<String> before = loggedBypass.stream().map(BypassGroup::describe).toList();
        if (now.equals(before)) {
            return;
        }
        int total = groups.stream().mapToInt(BypassGroup::count).sum();
        if (total == 0) {
            log.info("bypass: no connections outside Sluice any more; server={}", target.server());
        } else if (grew(loggedBypass, groups)) {
            log.warn("{}", bypassLine(target.server(), total, groups));
        } else {
            log.info("{}", bypassLine(target.server(), total, groups));
        }
        loggedBypass = groups;
    }

    /**
     * "bypass: 7 connections not through Sluice: app=analytics user=app addr=10.0.0.5 (7); server=h:p",
     * the largest groups first.
     */
    static String bypassLine(String server, int total, List<BypassGroup> groups) {
        StringBuilder line = new StringBuilder("bypass: ").append(total)
                .append(total == 1 ? " connection" : " connections").append(" not through Sluice: ");
        for (int i = 0; i < groups.size() && i < MAX_GROUPS_LOGGED; i++) {
            line.append(i == 0 ? "" : ", ").append(groups.get(i).describe());
        }
        if (groups.size() > MAX_GROUPS_LOGGED) {
            line.append(", and ").append(groups.size() - MAX_GROUPS_LOGGED).append(" more groups");
        }
        return line.append("; server=").append(server).toString();
    }

    /** True when some group is new or larger than before. */
    private static boolean grew(List<BypassGroup> before, List<BypassGroup> now) {
        Map<GroupKey, Integer> old = new LinkedHashMap<>();
        for (BypassGroup g : before) {
            old.put(new GroupKey(g.applicationName(), g.user(), g.clientAddress(), g.hidden()), g.count());
        }
        for (BypassGroup g : now) {
            Integer was = old.get(new GroupKey(g.applicationName(), g.user(), g.clientAddress(), g.hidden()));
            if (was == null || g.count() > was) {
                return true;
            }
        }
        return false;
    }

    /** The first line of a driver message, with the SQLSTATE when there is one. */
    private static String describe(Exception e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        String state = e instanceof SQLException sql ? sql.getSQLState() : null;
        return state == null ? msg : msg + " (SQLSTATE " + state + ")";
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String quoteIdent(String name) {
        return name.matches("[a-z_][a-z0-9_$]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
