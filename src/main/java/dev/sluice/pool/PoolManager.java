package dev.sluice.pool;

import dev.sluice.auth.StoredSecret;
import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerLogin;
import dev.sluice.backend.ServerLoginException;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.PoolMode;
import dev.sluice.config.Settings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.config.UserConfig;
import dev.sluice.guard.Workload;
import dev.sluice.guard.Workloads;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All pools, and the limits that span pools (max_db_connections, max_user_connections). One lock guards
 * every pool: lease and release hold it for microseconds, and a single lock keeps cross-pool counts exact.
 */
public final class PoolManager {
    private static final Logger log = LoggerFactory.getLogger(PoolManager.class);

    private final Object lock = new Object();
    private final Map<PoolKey, Pool> pools = new LinkedHashMap<>();
    private final EventLoopGroup group;
    private final Class<? extends Channel> tcpChannel;
    private final Class<? extends Channel> unixChannel;
    private volatile SluiceConfig config;
    private final Workloads workloads;
    /** Some workload has a max or a reserve: leases must pass admission, and releases re-check waiters. */
    private final boolean workloadLimits;
    private boolean shutDown;
    // admin console state (PAUSE, DISABLE); paused is read under the lock, disabled by logins without it
    private boolean pausedAll;
    private final Set<String> pausedDatabases = new HashSet<>();
    private final Set<String> disabledDatabases = ConcurrentHashMap.newKeySet();

    public PoolManager(SluiceConfig config, EventLoopGroup group, Class<? extends Channel> tcpChannel,
                       Class<? extends Channel> unixChannel) {
        this.config = config;
        this.workloads = Workloads.from(config);
        boolean limits = false;
        for (Workload w : workloads.all()) {
            limits |= w.config().max() > 0 || w.config().reserve() > 0;
        }
        this.workloadLimits = limits;
        this.group = group;
        this.tcpChannel = tcpChannel;
        this.unixChannel = unixChannel;
    }

    public Settings settings() {
        return config.settings();
    }

    public SluiceConfig config() {
        return config;
    }

    /** The pool for a client of {@code db} logged in as {@code clientUser}; created on first use. */
    public Pool poolFor(DatabaseConfig db, String clientUser) {
        String serverUser = db.user() != null ? db.user() : clientUser;
        PoolKey key = new PoolKey(db.name().equals("*") ? db.dbname() : db.name(), serverUser);
        synchronized (lock) {
            return pools.computeIfAbsent(key, k -> {
                Pool p = new Pool(this, k, settingsFor(config, db, serverUser), db);
                placeOnServer(p, db, config.settings());
                return p;
            });
        }
    }

    private static void placeOnServer(Pool p, DatabaseConfig db, Settings s) {
        String host = db.host() == null ? "127.0.0.1" : db.host();
        p.setServer((host.contains(":") ? "[" + host + "]" : host) + ":" + db.port(),
                db.effectiveMaxDbConnectionsAuto(s));
    }

    private static PoolSettings settingsFor(SluiceConfig config, DatabaseConfig db, String user) {
        Settings s = config.settings();
        UserConfig u = config.users().get(user);
        PoolMode mode = s.poolMode();
        if (db.poolMode() != null) {
            mode = db.poolMode();
        }
        if (u != null && u.poolMode() != null) {
            mode = u.poolMode();
        }
        int poolSize = db.poolSize() != null ? db.poolSize() : s.defaultPoolSize();
        int minPool = db.minPoolSize() != null ? db.minPoolSize() : s.minPoolSize();
        int reserve = db.reservePoolSize() != null ? db.reservePoolSize() : s.reservePoolSize();
        int maxDb = db.maxDbConnections() != null ? db.maxDbConnections() : s.maxDbConnections();
        int maxUser = u != null && u.maxUserConnections() != null ? u.maxUserConnections() : s.maxUserConnections();
        return new PoolSettings(mode, poolSize, Math.min(minPool, poolSize), reserve, maxDb, maxUser,
                s.serverLifetime().toNanos(), s.serverIdleTimeout().toNanos());
    }

    public List<Pool> pools() {
        synchronized (lock) {
            return new ArrayList<>(pools.values());
        }
    }

    /** Every pool's counts at one instant, for metrics, alerts and the dashboard; changes nothing. */
    public List<PoolCounts> counts() {
        long now = System.nanoTime();
        synchronized (lock) {
            List<PoolCounts> out = new ArrayList<>(pools.size());
            for (Pool p : pools.values()) {
                out.add(p.counts(capacity(p), now));
            }
            return out;
        }
    }

    // ---- leasing API used by client sessions ----

    public ServerConnection acquire(Pool pool, ServerWaiter w) {
        synchronized (lock) {
            return pool.acquire(w);
        }
    }

    public void cancelWait(Pool pool, ServerWaiter w) {
        synchronized (lock) {
            pool.cancelWait(w);
        }
    }

    public void release(Pool pool, ServerConnection s) {
        synchronized (lock) {
            pool.release(s);
            serveAllWaiters();
        }
    }

    public void discard(Pool pool, ServerConnection s, DisconnectReason reason) {
        synchronized (lock) {
            pool.discard(s, reason);
            serveAllWaiters();
        }
    }

    public Workloads workloads() {
        return workloads;
    }

    // ---- workload admission (under the lock) ----

    /**
     * May a client of {@code w} lease one more server of {@code pool}? Not above the workload's max; and
     * beyond its own reserve only if what is left of the database's capacity is not owed to other
     * workloads' unmet reserves. This is what keeps a leaking job from taking the API's last connections.
     */
    boolean admissible(Workload w, Pool pool) {
        if (!workloadLimits) {
            return true;
        }
        int max = w.config().max();
        if (max > 0 && w.inUse() >= max) {
            return false;
        }
        String db = pool.key().database();
        if (w.inUse(db) < w.config().reserve()) {
            return true;
        }
        int owedToOthers = 0;
        for (Workload v : workloads.all()) {
            if (v != w) {
                owedToOthers += Math.max(0, v.config().reserve() - v.inUse(db));
            }
        }
        if (owedToOthers == 0) {
            return true;
        }
        return leasedOnDatabase(db) + owedToOthers < capacity(pool);
    }

    /** How many servers the database can have: max_db_connections, else what its pools may open. */
    int capacity(Pool pool) {
        String db = pool.key().database();
        Integer budget = budgetOf(pool);
        if (budget != null) {
            return budget;
        }
        if (pool.settings().maxDbConnections() > 0) {
            return pool.settings().maxDbConnections();
        }
        int sum = 0;
        for (Pool p : pools.values()) {
            if (p.key().database().equals(db)) {
                sum += p.settings().poolSize() + p.settings().reservePoolSize();
            }
        }
        return sum;
    }

    private int leasedOnDatabase(String db) {
        int n = 0;
        for (Pool p : pools.values()) {
            if (p.key().database().equals(db)) {
                n += p.leasedCount();
            }
        }
        return n;
    }

    /** After a release, waiters held back by workload limits may be admissible now. */
    private void serveAllWaiters() {
        if (!workloadLimits) {
            return;
        }
        for (Pool p : pools.values()) {
            if (p.waitingCount() > 0) {
                p.serveWaiters();
                openForWaiters(p);
            }
        }
    }

    /**
     * Why a client of {@code w} is still waiting, in words for its error message: its workload's max, the
     * reserves of other workloads, or the pool itself.
     */
    public String waitReason(Pool pool, Workload w) {
        synchronized (lock) {
            int max = w.config().max();
            if (max > 0 && w.inUse() >= max) {
                return "workload \"" + w.name() + "\" is at its limit of " + max + " server connections (max)";
            }
            String db = pool.key().database();
            if (workloadLimits && !admissible(w, pool)) {
                StringBuilder owed = new StringBuilder();
                for (Workload v : workloads.all()) {
                    int unmet = Math.max(0, v.config().reserve() - v.inUse(db));
                    if (v != w && unmet > 0) {
                        owed.append(owed.length() == 0 ? "" : ", ").append(v.name()).append(": ").append(unmet);
                    }
                }
                return "workload \"" + w.name() + "\": the remaining server connections of database \"" + db
                        + "\" are reserved for other workloads (" + owed + "; capacity " + capacity(pool) + ")";
            }
            Integer budget = budgetOf(pool);
            if (budget != null && countForServer(pool.budgetServer()) >= budget) {
                var m = budgets.get(pool.budgetServer());
                var cap = m.snapshot().capacity();
                return "database \"" + db + "\" budget of " + budget + " connections is in use ("
                        + (cap == null ? "" : cap.explain()) + ")";
            }
            return "all " + pool.settings().poolSize() + " server connections of pool " + pool.key()
                    + " (pool_size) are in use";
        }
    }

    // ---- opening connections ----

    /** Opens connections for the pool's uncovered waiters while its own and the shared limits allow. */
    void openForWaiters(Pool pool) {
        Pool.Waiter w;
        while (!shutDown && !isPaused(pool) && (w = pool.firstUncoveredWaiter()) != null
                && canOpen(pool, System.nanoTime())) {
            // Open on the loop of the waiter this connection will most likely serve, so both share a thread,
            // with the startup parameters it asks for (session mode).
            open(pool, w.waiter().eventLoop(), w.startup() != null ? w.startup() : pool.database().startupParameters());
        }
    }

    private boolean canOpen(Pool pool, long now) {
        PoolSettings ps = pool.settings();
        int limit = ps.poolSize();
        if (ps.reservePoolSize() > 0
                && pool.oldestWaitNanos(now) >= config.settings().reservePoolTimeout().toNanos()) {
            limit += ps.reservePoolSize();
        }
        if (pool.serverCount() >= limit) {
            // Session mode: an idle server opened with other startup parameters gives way to a waiting client.
            return evictOwnIdle(pool);
        }
        Integer budget = budgetOf(pool);
        if (budget != null && countForServer(pool.budgetServer()) >= budget) {
            // The database-wide budget read from PostgreSQL: make room only by closing an idle server.
            return evictIdle(pool, p -> pool.budgetServer().equals(p.serverKey()));
        }
        if (ps.maxDbConnections() > 0 && countForDatabase(pool.key().database()) >= ps.maxDbConnections()) {
            return evictIdle(pool, p -> p.key().database().equals(pool.key().database()));
        }
        if (ps.maxUserConnections() > 0 && countForUser(pool.key().user()) >= ps.maxUserConnections()) {
            return evictIdle(pool, p -> p.key().user().equals(pool.key().user()));
        }
        return true;
    }

    /** At a shared cap, closes an idle server of a sibling pool (or one of the pool's own that its waiters cannot use). */
    private boolean evictIdle(Pool needy, java.util.function.Predicate<Pool> sibling) {
        for (Pool p : pools.values()) {
            if (p != needy && sibling.test(p)) {
                ServerConnection s = p.evictColdestIdle();
                if (s != null) {
                    evict(p, s, needy);
                    return false;
                }
            }
        }
        return evictOwnIdle(needy);
    }

    /** Closes an idle server of {@code pool} opened with startup parameters its first uncovered waiter cannot use. */
    private boolean evictOwnIdle(Pool pool) {
        ServerConnection s = pool.evictIdleUnfitFor(pool.firstUncoveredWaiter());
        if (s != null) {
            evict(pool, s, pool);
        }
        return false;
    }

    private void evict(Pool p, ServerConnection s, Pool needy) {
        log.info("evicting idle server {} of {} to make room for waiting clients of {}", s, p, needy);
        // Open the replacement only once the old one is really closed: the cap is a hard limit.
        s.channel().closeFuture().addListener(f -> {
            synchronized (lock) {
                p.evictionDone();
                serverGone(p);
            }
        });
        s.close(DisconnectReason.EVICTED);
    }

    // ---- the database budget (max_db_connections = auto) ----

    private final Map<String, dev.sluice.guard.BudgetMonitor> budgets = new java.util.concurrent.ConcurrentHashMap<>();

    /** Registers the monitor of one server ("host:port"); its snapshots bound the pools that use auto. */
    public void attachBudget(String server, dev.sluice.guard.BudgetMonitor monitor) {
        budgets.put(server, monitor);
    }

    /** The current budget of the pool's server, or null when it has none (not auto, or not read yet). */
    private Integer budgetOf(Pool pool) {
        if (pool.budgetServer() == null) {
            return null;
        }
        var m = budgets.get(pool.budgetServer());
        if (m == null) {
            return null;
        }
        var b = m.snapshot().budget();
        return b.isPresent() ? b.getAsInt() : null;
    }

    /** Every server connection Sluice has (or is opening) to one PostgreSQL server, across pools. */
    private int countForServer(String server) {
        int n = 0;
        for (Pool p : pools.values()) {
            if (p.serverKey().equals(server)) {
                n += p.serverCount();
            }
        }
        return n;
    }

    /** The backend PIDs of Sluice's own connections to {@code server}, so the monitor does not count them as bypassing. */
    public java.util.Set<Integer> serverPids(String server) {
        java.util.Set<Integer> pids = new java.util.HashSet<>();
        synchronized (lock) {
            for (Pool p : pools.values()) {
                if (p.serverKey().equals(server)) {
                    for (ServerConnection s : p.allServers()) {
                        if (s.backendKey() != null) {
                            pids.add(s.backendKey().processId());
                        }
                    }
                }
            }
        }
        return pids;
    }

    /** A new budget reading: when it shrank below what Sluice holds, close idle servers (never busy ones). */
    public void onBudget(dev.sluice.guard.BudgetSnapshot snapshot) {
        synchronized (lock) {
            int held = countForServer(snapshot.server());
            int excess = snapshot.excess(held);
            int closed = 0;
            while (closed < excess) {
                ServerConnection s = null;
                for (Pool p : pools.values()) {
                    if (p.serverKey().equals(snapshot.server()) && p.idleCount() > 0) {
                        s = p.evictColdestIdle();
                        Pool owner = p;
                        s.channel().closeFuture().addListener(f -> {
                            synchronized (lock) {
                                owner.evictionDone();
                                serverGone(owner);
                            }
                        });
                        break;
                    }
                }
                if (s == null) {
                    break;
                }
                s.close(DisconnectReason.BUDGET_SHRANK);
                closed++;
            }
            if (excess > 0) {
                log.warn("budget of {} shrank below use: {} server connections held, {} over; closed {} idle ones{}",
                        snapshot.server(), held, excess, closed, closed < excess ? ", the rest are busy and close as they are released" : "");
            }
            if (excess == 0) {
                for (Pool p : pools.values()) {
                    if (p.waitingCount() > 0) {
                        openForWaiters(p); // the budget may have grown
                    }
                }
            }
        }
    }

    private int countForDatabase(String database) {
        int n = 0;
        for (Pool p : pools.values()) {
            if (p.key().database().equals(database)) {
                n += p.serverCount();
            }
        }
        return n;
    }

    private int countForUser(String user) {
        int n = 0;
        for (Pool p : pools.values()) {
            if (p.key().user().equals(user)) {
                n += p.serverCount();
            }
        }
        return n;
    }

    private void open(Pool pool, EventLoop loop, Map<String, String> startup) {
        log.debug("{}: opening a server connection ({} open, {} waiting)", pool, pool.serverCount(), pool.waitingCount());
        pool.connectStarted(startup);
        ServerLogin login = loginFor(pool, startup);
        Class<? extends Channel> cls = login.address() instanceof DomainSocketAddress ? unixChannel : tcpChannel;
        if (cls == null) {
            synchronized (lock) {
                pool.connectFailed(new ServerLoginException(dev.sluice.protocol.ErrorResponse.fatal(
                        dev.sluice.protocol.SqlState.FEATURE_NOT_SUPPORTED,
                        "sluice: Unix-domain sockets to the server need the epoll transport, not available here")),
                        startup);
            }
            return;
        }
        ServerConnection.connect(loop, cls, login, pool).addListener(f -> {
            synchronized (lock) {
                if (f.isSuccess()) {
                    ServerConnection s = (ServerConnection) f.getNow();
                    s.setCloseListener(this::onServerClosed);
                    log.debug("server connection {} ready for {}", s, pool);
                    pool.connected(s);
                } else {
                    Throwable cause = f.cause();
                    ServerLoginException e = cause instanceof ServerLoginException sle ? sle
                            : new ServerLoginException(dev.sluice.protocol.ErrorResponse.fatal(
                                    dev.sluice.protocol.SqlState.CONNECTION_FAILURE, "sluice: " + cause));
                    log.warn("{}: opening a server connection failed: reason={} {}", pool,
                            DisconnectReason.CONNECT_FAILED.code(), e.error().message());
                    pool.connectFailed(e, startup);
                }
            }
        });
    }

    private void onServerClosed(ServerConnection s) {
        Pool pool = (Pool) s.poolTag();
        pool.stats().serverClosed(System.nanoTime() - s.createdNanos());
        synchronized (lock) {
            pool.closed(s);
        }
    }

    /** {@code startup}: the StartupMessage parameters (the [databases] entry's, or a session-mode client's over them). */
    ServerLogin loginFor(Pool pool, Map<String, String> startup) {
        SluiceConfig cfg = config;
        // A [databases] entry removed by RELOAD keeps serving the clients already connected to it.
        DatabaseConfig db = pool.database();
        String user = pool.key().user();
        StoredSecret secret = null;
        if (db.user() != null && db.password() != null) {
            secret = StoredSecret.parse(db.password());
        } else if (cfg.authFile().containsKey(user)) {
            secret = StoredSecret.parse(cfg.authFile().get(user));
        }
        String dbname = db.dbname() != null ? db.dbname() : pool.key().database();
        String host = db.host() == null ? "127.0.0.1" : db.host();
        SocketAddress address;
        String description;
        if (host.startsWith("/")) {
            address = new DomainSocketAddress(host + "/.s.PGSQL." + db.port());
            description = host + "/.s.PGSQL." + db.port() + "/" + dbname;
        } else {
            address = new InetSocketAddress(host, db.port());
            description = host + ":" + db.port() + "/" + dbname;
        }
        return new ServerLogin(address, description, user, dbname, secret, pool.scramKeys(),
                startup, cfg.settings().serverConnectTimeout(), cfg.settings().maxServerMessageSize(),
                cfg.settings().tls().server(), cfg.settings().tcpKeepalive());
    }

    // ---- events from pools ----

    /** A server left a pool (closed or discarded): its slot may serve waiters here or in sibling pools. */
    void serverGone(Pool pool) {
        for (Pool p : pools.values()) {
            if (p.waitingCount() > 0) {
                openForWaiters(p);
            }
        }
    }

    /** A server went idle in {@code pool}: a sibling pool blocked by a shared cap may now evict it. */
    void idleServerAvailable(Pool pool) {
        if (pool.settings().maxDbConnections() <= 0 && pool.settings().maxUserConnections() <= 0) {
            return;
        }
        for (Pool p : pools.values()) {
            if (p != pool && p.waitingCount() > 0) {
                openForWaiters(p);
            }
        }
    }

    // ---- housekeeping ----

    /** Once a second: expire idle servers, keep min_pool_size, let reserve capacity kick in for long waits. */
    public void startJanitor() {
        group.scheduleAtFixedRate(this::janitor, 1, 1, TimeUnit.SECONDS);
    }

    private void janitor() {
        try {
            long now = System.nanoTime();
            synchronized (lock) {
                for (Pool p : pools.values()) {
                    p.closeExpired(now);
                    if (p.waitingCount() > 0) {
                        openForWaiters(p);
                    }
                    while (!isPaused(p) && p.serverCount() < p.settings().minPoolSize() && canOpen(p, now)) {
                        open(p, group.next(), p.spareStartup());
                    }
                }
            }
        } catch (RuntimeException e) {
            log.error("pool janitor failed", e);
        }
    }

    /**
     * Closes every server connection, idle or leased; servers released afterwards are closed too. The returned
     * futures complete as their sockets close.
     */
    public List<Future<Void>> closeAll() {
        List<Future<Void>> closed = new ArrayList<>();
        synchronized (lock) {
            shutDown = true;
            for (Pool p : pools.values()) {
                for (ServerConnection s : p.allServers()) {
                    s.close(DisconnectReason.POOL_SHUTDOWN);
                    closed.add(s.channel().closeFuture());
                }
            }
        }
        return closed;
    }

    boolean isShutDown() {
        return shutDown;
    }

    // ---- reload ----

    /**
     * Switches to a new configuration (RELOAD, SIGHUP, SET): every pool takes its new limits and timeouts at
     * once; a pool whose [databases] entry now points elsewhere closes its servers as they are released;
     * waiting clients are served if the new limits allow. Clients and leases are untouched. A pool whose
     * entry was removed keeps its last settings for the clients still connected.
     */
    public void applyConfig(SluiceConfig next) {
        synchronized (lock) {
            config = next;
            for (Pool p : pools.values()) {
                DatabaseConfig db = next.database(p.key().database()).orElse(null);
                if (db == null) {
                    continue;
                }
                if (!sameTarget(p.database(), db)) {
                    log.info("{}: [databases] entry changed; its server connections are replaced as they are released", p);
                    p.closeWhenReleased(DisconnectReason.DATABASE_CHANGED);
                }
                p.update(settingsFor(next, db, p.key().user()), db);
                placeOnServer(p, db, next.settings());
            }
            for (Pool p : pools.values()) {
                if (p.waitingCount() > 0) {
                    p.serveWaiters();
                    openForWaiters(p);
                }
            }
        }
    }

    /** True when servers opened for {@code a} would be the same as for {@code b} (pool sizes aside). */
    private static boolean sameTarget(DatabaseConfig a, DatabaseConfig b) {
        return Objects.equals(a.host(), b.host()) && a.port() == b.port() && Objects.equals(a.dbname(), b.dbname())
                && Objects.equals(a.user(), b.user()) && Objects.equals(a.password(), b.password())
                && a.startupParameters().equals(b.startupParameters());
    }

    // ---- admin console: PAUSE, RESUME, DISABLE, ENABLE, RECONNECT, KILL ----

    /** Every pool, copied under the lock: what SHOW POOLS, SERVERS and STATS read. */
    public List<PoolSnapshot> snapshot() {
        long now = System.nanoTime();
        synchronized (lock) {
            List<PoolSnapshot> out = new ArrayList<>(pools.size());
            for (Pool p : pools.values()) {
                out.add(p.snapshot(now));
            }
            return out;
        }
    }

    boolean isPaused(Pool pool) {
        return pausedAll || (!pausedDatabases.isEmpty() && pausedDatabases.contains(pool.key().database()));
    }

    /**
     * PAUSE: no more leases for {@code database} (null: every database); idle servers close now, leased ones
     * when released. Waiting and new clients wait until RESUME. Returns at once; see {@link #serverCount}.
     */
    public void pause(String database) {
        synchronized (lock) {
            if (database == null) {
                pausedAll = true;
            } else {
                pausedDatabases.add(database);
            }
            for (Pool p : pools.values()) {
                if (matches(p, database)) {
                    p.closeIdle(DisconnectReason.ADMIN_PAUSE);
                }
            }
        }
    }

    /** RESUME: leases flow again; returns false when nothing was paused for {@code database}. */
    public boolean resume(String database) {
        synchronized (lock) {
            boolean was;
            if (database == null) {
                was = pausedAll || !pausedDatabases.isEmpty();
                pausedAll = false;
                pausedDatabases.clear();
            } else {
                was = pausedDatabases.remove(database);
            }
            for (Pool p : pools.values()) {
                if (p.waitingCount() > 0) {
                    p.serveWaiters();
                    openForWaiters(p);
                }
            }
            return was;
        }
    }

    public boolean isPausedAll() {
        synchronized (lock) {
            return pausedAll;
        }
    }

    public boolean isPaused(String database) {
        synchronized (lock) {
            return pausedAll || pausedDatabases.contains(database);
        }
    }

    /** Server connections of {@code database} (null: all) that exist or are being opened or closed. */
    public int serverCount(String database) {
        synchronized (lock) {
            int n = 0;
            for (Pool p : pools.values()) {
                if (matches(p, database)) {
                    n += p.serverCount();
                }
            }
            return n;
        }
    }

    /** DISABLE: new logins to {@code database} are refused; connected clients carry on. */
    public void disable(String database) {
        disabledDatabases.add(database);
    }

    public void enable(String database) {
        disabledDatabases.remove(database);
    }

    /** Read by every login, without the lock. */
    public boolean isDisabled(String database) {
        return !disabledDatabases.isEmpty() && disabledDatabases.contains(database);
    }

    /** RECONNECT: every server of {@code database} (null: all) is closed instead of reused once released. */
    public void reconnect(String database) {
        synchronized (lock) {
            for (Pool p : pools.values()) {
                if (matches(p, database)) {
                    p.closeWhenReleased(DisconnectReason.ADMIN_RECONNECT);
                }
            }
        }
    }

    private static boolean matches(Pool p, String database) {
        return database == null || p.key().database().equals(database);
    }
}
