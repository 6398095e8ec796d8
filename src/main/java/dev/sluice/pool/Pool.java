package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerLogin;
import dev.sluice.backend.ServerLoginException;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.PoolMode;
import dev.sluice.guard.Workload;
import dev.sluice.guard.Workloads;
import dev.sluice.protocol.ErrorResponse;
import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server connections for one (database, user): idle ones (LIFO, so the warmest is reused and the
 * coldest ages out), leased ones, connections being opened, and clients waiting FIFO. A connection's
 * state is which collection it is in; counts are derived. Every method runs under the manager's lock.
 *
 * <p>In session mode a server is opened with its client's startup parameters in its own StartupMessage,
 * so they are that session's defaults (RESET returns to them, as on a direct connection); such a server
 * only serves clients asking for the same startup parameters. All of them still count against this
 * pool's limits together; an idle server with other parameters is closed when room is needed.
 */
public final class Pool {
    private static final Logger log = LoggerFactory.getLogger(Pool.class);

    /** How far down the idle stack to look for a server on the client's own event loop. */
    private static final int SAME_LOOP_SCAN = 8;

    /** {@code startup}: the StartupMessage parameters the server must have been opened with; null: any server. */
    record Waiter(ServerWaiter waiter, long sinceNanos, Map<String, String> startup) {
        boolean fits(ServerConnection s) {
            return startup == null || startup.equals(s.login().startupParameters());
        }
    }

    private final PoolManager manager;
    private final PoolKey key;
    /** Replaced (under the manager's lock) when RELOAD or SET changes pool sizes or timeouts. */
    private volatile PoolSettings settings;
    /** The [databases] entry servers are opened with; replaced on RELOAD, kept when the entry was removed. */
    private volatile DatabaseConfig database;
    private final PoolStats stats = new PoolStats();
    private final ArrayDeque<ServerConnection> idle = new ArrayDeque<>();
    /** Leased servers and the workload of the client holding each. */
    /** Leased servers and who leased them; identity-keyed (no entry object per lease, unlike HashMap). */
    private final Map<ServerConnection, Workload> active = new IdentityHashMap<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    /** The startup parameters of each connection being opened (their count is the number opening). */
    private final List<Map<String, String>> opening = new ArrayList<>();
    /** Session mode: the startup parameters last asked for, used when min_pool_size opens a spare server. */
    private Map<String, String> lastStartup;
    /** Evicted servers whose close has not completed: they still occupy a slot of shared caps. */
    private int closing;
    private volatile Map<String, String> welcomeParameters;
    private ErrorResponse lastLoginError;
    private long lastLoginErrorNanos;
    private volatile ServerLogin.ScramKeys scramKeys;
    /** "host:port" of the PostgreSQL server this pool connects to. */
    private String serverKey = "";
    /** Same as serverKey when the database's max_db_connections is auto (budget read from the server), else null. */
    private String budgetServer;

    Pool(PoolManager manager, PoolKey key, PoolSettings settings, DatabaseConfig database) {
        this.manager = manager;
        this.key = key;
        this.settings = settings;
        this.database = database;
    }

    public PoolKey key() {
        return key;
    }

    void setServer(String serverKey, boolean budgeted) {
        this.serverKey = serverKey;
        this.budgetServer = budgeted ? serverKey : null;
    }

    String serverKey() {
        return serverKey;
    }

    String budgetServer() {
        return budgetServer;
    }

    public PoolSettings settings() {
        return settings;
    }

    public PoolMode mode() {
        return settings.mode();
    }

    /** Counters for SHOW STATS; clients add to them at the end of each transaction. */
    public PoolStats stats() {
        return stats;
    }

    public DatabaseConfig database() {
        return database;
    }

    /** New limits from RELOAD or SET; leases already granted are not affected. */
    void update(PoolSettings newSettings, DatabaseConfig newDatabase) {
        settings = newSettings;
        database = newDatabase;
    }

    /** The server's parameters as the first server connection reported them: what clients see at login. */
    public Map<String, String> welcomeParameters() {
        return welcomeParameters;
    }

    /** Records the SCRAM keys recovered from a client's login, so server logins can reuse them. */
    public void offerScramKeys(byte[] clientKey, byte[] serverKey) {
        if (scramKeys == null) {
            scramKeys = new ServerLogin.ScramKeys(clientKey, serverKey);
        }
    }

    ServerLogin.ScramKeys scramKeys() {
        return scramKeys;
    }

    // ---- counts (derived) ----

    int idleCount() {
        return idle.size();
    }

    int activeCount() {
        return active.size();
    }

    int connectingCount() {
        return opening.size();
    }

    int waitingCount() {
        return waiters.size();
    }

    /** Every server connection that counts against limits: idle, leased, being opened or being closed. */
    int serverCount() {
        return idle.size() + active.size() + opening.size() + closing;
    }

    List<ServerConnection> idleServers() {
        return new ArrayList<>(idle);
    }

    List<ServerConnection> allServers() {
        List<ServerConnection> all = new ArrayList<>(idle);
        all.addAll(active.keySet());
        return all;
    }

    /** Read-only copy of this pool's counts (observability); under the manager's lock. */
    PoolCounts counts(int capacity, long now) {
        Map<String, Integer> byWorkload = new HashMap<>();
        for (Workload w : active.values()) {
            byWorkload.merge(w == null ? "" : w.name(), 1, Integer::sum);
        }
        return new PoolCounts(key, serverKey, budgetServer != null, settings, capacity, idle.size(), active.size(),
                opening.size(), closing, waiters.size(), oldestWaitNanos(now), byWorkload);
    }

    long oldestWaitNanos(long now) {
        Waiter w = waiters.peekFirst();
        return w == null ? 0 : now - w.sinceNanos();
    }

    // ---- leasing ----

    /**
     * Leases an idle server at once, or queues the waiter (opening a connection if limits allow).
     * Returns null when queued; the waiter is then called back on its own event loop.
     */
    ServerConnection acquire(ServerWaiter w) {
        Map<String, String> startup = startupFor(w.startupParameters());
        if (w.startupParameters() != null) {
            lastStartup = startup;
        }
        if (!idle.isEmpty() && !manager.isPaused(this) && manager.admissible(w.workload(), this)) {
            ServerConnection s = takeIdle(w.eventLoop(), startup);
            if (s != null) {
                lease(s, w.workload());
                return s;
            }
        }
        long now = System.nanoTime();
        if (lastLoginError != null && serverCount() == 0
                && now - lastLoginErrorNanos < manager.settings().serverLoginRetry().toNanos()) {
            // PostgreSQL refused the last login moments ago: answer now instead of letting clients hang.
            ErrorResponse cached = lastLoginError;
            w.eventLoop().execute(() -> w.serverUnavailable(cached));
            return null;
        }
        waiters.addLast(new Waiter(w, now, startup));
        manager.openForWaiters(this);
        return null;
    }

    /**
     * The StartupMessage parameters a server must have for a client that asks for {@code clientParameters}:
     * the [databases] entry's, overridden by the client's. A transaction-mode client (null) needs a server
     * opened with the entry's alone: one left from session mode with another client's defaults would give
     * it settings that are not its own (after a RELOAD changed pool_mode).
     */
    Map<String, String> startupFor(Map<String, String> clientParameters) {
        if (clientParameters == null) {
            return database.startupParameters();
        }
        Map<String, String> m = new java.util.LinkedHashMap<>(database.startupParameters());
        m.putAll(clientParameters);
        return m;
    }

    /** The startup parameters min_pool_size opens spare servers with: the last asked for, else the entry's. */
    Map<String, String> spareStartup() {
        return lastStartup != null ? lastStartup : database.startupParameters();
    }

    /** An idle server opened with {@code startup} (null: any), preferring one on the client's own loop. */
    private ServerConnection takeIdle(EventLoop preferred, Map<String, String> startup) {
        ServerConnection chosen = null;
        ServerConnection first = null;
        int scanned = 0;
        for (ServerConnection s : idle) {
            if (startup != null && !startup.equals(s.login().startupParameters())) {
                continue;
            }
            if (s.eventLoop() == preferred) {
                chosen = s;
                break;
            }
            if (first == null) {
                first = s;
            }
            if (++scanned >= SAME_LOOP_SCAN) {
                break;
            }
        }
        if (chosen == null) {
            chosen = first;
        }
        if (chosen != null) {
            idle.remove(chosen);
        }
        return chosen;
    }

    private boolean hasIdleFor(Waiter w) {
        for (ServerConnection s : idle) {
            if (w.fits(s)) {
                return true;
            }
        }
        return false;
    }

    boolean cancelWait(ServerWaiter w) {
        return waiters.removeIf(x -> x.waiter() == w);
    }

    /**
     * The first admissible waiter that no connection being opened will serve (one opened with other
     * startup parameters does not serve it), or null: another connection is opened for it if limits allow.
     */
    Waiter firstUncoveredWaiter() {
        List<Map<String, String>> left = new ArrayList<>(opening);
        for (Waiter w : waiters) {
            if (!manager.admissible(w.waiter().workload(), this)) {
                continue;
            }
            boolean covered = w.startup() == null ? !left.isEmpty() && left.remove(0) != null : left.remove(w.startup());
            if (!covered) {
                return w;
            }
        }
        return null;
    }

    private void lease(ServerConnection s, Workload w) {
        active.put(s, w);
        w.leased(key.database());
    }

    private void unlease(ServerConnection s) {
        Workload w = active.remove(s);
        if (w != null) {
            w.returned(key.database());
        }
    }

    /** Idle servers go to waiters that became admissible (a workload released, a reserve was met). */
    void serveWaiters() {
        if (manager.isPaused(this)) {
            return;
        }
        while (!idle.isEmpty() && !waiters.isEmpty()) {
            Waiter w = bestAdmissibleWaiter(this::hasIdleFor);
            if (w == null) {
                return;
            }
            waiters.remove(w);
            ServerConnection s = takeIdle(w.waiter().eventLoop(), w.startup());
            lease(s, w.waiter().workload());
            ServerWaiter waiter = w.waiter();
            waiter.eventLoop().execute(() -> waiter.serverLeased(s));
        }
    }

    /**
     * Which waiter gets the next server: one whose workload is below its reserve first, then the highest
     * priority, then the longest waiting; never one whose workload may not take another connection.
     */
    private Waiter bestAdmissibleWaiter(java.util.function.Predicate<Waiter> servable) {
        // Called on every release while clients queue (hundreds of waiters at c200), so the workload checks
        // are made once per run of waiters of the same workload, and the scan stops at a waiter nothing
        // later can beat (below its reserve, or no reserves at all, and of the highest priority).
        Workloads all = manager.workloads();
        boolean reserves = all.anyReserve();
        int top = all.topPriority();
        String db = key.database();
        Waiter best = null;
        boolean bestBelowReserve = false;
        Workload seen = null;
        boolean seenAdmissible = false;
        boolean seenBelowReserve = false;
        for (Waiter w : waiters) {
            Workload wl = w.waiter().workload();
            if (wl != seen) {
                seen = wl;
                seenAdmissible = manager.admissible(wl, this);
                seenBelowReserve = seenAdmissible && reserves && wl.inUse(db) < wl.config().reserve();
            }
            if (!seenAdmissible || !servable.test(w)) {
                continue;
            }
            if (best == null
                    || (seenBelowReserve && !bestBelowReserve)
                    || (seenBelowReserve == bestBelowReserve
                        && wl.config().priority() > best.waiter().workload().config().priority())) {
                best = w;
                bestBelowReserve = seenBelowReserve;
                if ((bestBelowReserve || !reserves) && wl.config().priority() >= top) {
                    break;
                }
            }
        }
        return best;
    }

    boolean hasWaiterOf(Workload w) {
        for (Waiter x : waiters) {
            if (x.waiter().workload() == w) {
                return true;
            }
        }
        return false;
    }

    /** Returns a clean server: to the first waiter, else to the idle stack. */
    void release(ServerConnection s) {
        if (!active.containsKey(s)) {
            return; // already gone (closed meanwhile)
        }
        unlease(s);
        s.setOwner(null);
        if (!s.isUsable()) {
            manager.serverGone(this);
            return;
        }
        if (manager.isShutDown()) {
            s.close(DisconnectReason.POOL_SHUTDOWN);
            return;
        }
        if (s.closeNeeded() || manager.isPaused(this)) {
            // RECONNECT, a changed [databases] entry, or PAUSE: this server is not to be used again.
            s.close(s.closeNeeded() ? DisconnectReason.ADMIN_RECONNECT : DisconnectReason.ADMIN_PAUSE);
            manager.serverGone(this);
            return;
        }
        // server_lifetime = 0 means "use once" (PgBouncer), so >= and not >.
        if (System.nanoTime() - s.createdNanos() >= settings.serverLifetimeNanos()) {
            s.close(DisconnectReason.SERVER_LIFETIME);
            manager.serverGone(this);
            return;
        }
        handOut(s);
    }

    /** Gives a ready server to the best admissible waiter, or parks it idle. */
    private void handOut(ServerConnection s) {
        Waiter w = bestAdmissibleWaiter(x -> x.fits(s));
        if (w == null) {
            s.markIdle();
            idle.addFirst(s);
            manager.idleServerAvailable(this);
            if (!waiters.isEmpty()) {
                manager.openForWaiters(this); // waiters for other startup parameters: this one may make room
            }
            return;
        }
        waiters.remove(w);
        lease(s, w.waiter().workload());
        ServerWaiter waiter = w.waiter();
        // Always a task, never a direct call: we hold the manager's lock and the waiter will call back into it.
        waiter.eventLoop().execute(() -> waiter.serverLeased(s));
    }

    /** A leased server that must not be reused (client vanished mid-query, cleanup failed). */
    void discard(ServerConnection s, DisconnectReason reason) {
        unlease(s);
        idle.remove(s);
        // Closed before it loses its owner: a server discarded mid-reply may be reading the rest of that reply
        // on its own event loop right now, and a frame that finds no owner on a connection not yet marked
        // closing looks like a stray message on an idle server (logged, and the server closed as server_fatal).
        if (reason == DisconnectReason.CLIENT_LEFT_MID_QUERY || reason == DisconnectReason.QUERY_TIMEOUT) {
            // Closing alone would leave PostgreSQL running the query until it next writes to the socket.
            s.cancelAndClose(reason);
        } else {
            s.close(reason);
        }
        s.setOwner(null);
        manager.serverGone(this);
    }

    // ---- connection lifecycle (called by the manager) ----

    void connectStarted(Map<String, String> startup) {
        opening.add(startup);
    }

    void connected(ServerConnection s) {
        opening.remove(s.login().startupParameters());
        lastLoginError = null;
        // What a client sees at login in transaction mode: the server's defaults, not one client's parameters.
        if (welcomeParameters == null && s.login().startupParameters().equals(database.startupParameters())) {
            welcomeParameters = Collections.unmodifiableMap(new HashMap<>(s.parameters()));
        }
        if (manager.isPaused(this)) {
            s.close(DisconnectReason.ADMIN_PAUSE); // opened before PAUSE; PAUSE waits for it to go
            return;
        }
        handOut(s);
    }

    void connectFailed(ServerLoginException e, Map<String, String> startup) {
        opening.remove(startup);
        String state = e.error().sqlState();
        if (!startup.equals(database.startupParameters()) && (state.startsWith("22") || state.startsWith("42"))) {
            // PostgreSQL refused a client's own startup parameter (invalid value 22023, unknown parameter
            // 42704): only the clients asking for exactly those parameters are told, as PostgreSQL tells them.
            List<Waiter> failed = new ArrayList<>();
            for (Waiter w : waiters) {
                if (startup.equals(w.startup())) {
                    failed.add(w);
                }
            }
            waiters.removeAll(failed);
            for (Waiter w : failed) {
                ServerWaiter waiter = w.waiter();
                waiter.eventLoop().execute(() -> waiter.serverUnavailable(e.error()));
            }
            return;
        }
        lastLoginError = e.error();
        lastLoginErrorNanos = System.nanoTime();
        if (opening.isEmpty() && idle.isEmpty() && active.isEmpty()) {
            // Nothing else can serve the waiters soon: tell them now, with PostgreSQL's own reason.
            List<Waiter> failed = new ArrayList<>(waiters);
            waiters.clear();
            for (Waiter w : failed) {
                ServerWaiter waiter = w.waiter();
                waiter.eventLoop().execute(() -> waiter.serverUnavailable(e.error()));
            }
            log.warn("pool {}: server login failed, {} waiting client(s) told: {}", key, failed.size(), e.error());
        }
    }

    /** The server's channel closed, wherever it was. */
    void closed(ServerConnection s) {
        boolean wasIdle = idle.remove(s);
        boolean wasActive = active.containsKey(s);
        unlease(s);
        if (wasIdle || wasActive) {
            manager.serverGone(this);
        }
    }

    /** Closes idle servers past server_idle_timeout / server_lifetime, keeping min_pool_size. */
    void closeExpired(long now) {
        Iterator<ServerConnection> it = idle.descendingIterator(); // coldest first
        while (it.hasNext()) {
            ServerConnection s = it.next();
            boolean overMin = serverCount() > settings.minPoolSize();
            DisconnectReason reason = null;
            if (now - s.createdNanos() >= settings.serverLifetimeNanos()) {
                reason = DisconnectReason.SERVER_LIFETIME;
            } else if (overMin && settings.serverIdleTimeoutNanos() > 0
                    && now - s.idleSinceNanos() > settings.serverIdleTimeoutNanos()) {
                reason = DisconnectReason.SERVER_IDLE_TIMEOUT;
            }
            if (reason != null) {
                it.remove();
                s.close(reason);
            }
        }
        // After RELOAD/SET lowered pool_size: the surplus goes as it becomes idle, coldest first.
        int limit = settings.poolSize() + settings.reservePoolSize();
        while (serverCount() > limit && !idle.isEmpty()) {
            idle.pollLast().close(DisconnectReason.POOL_SIZE_REDUCED);
        }
    }

    // ---- admin console (called by the manager, under its lock) ----

    /** Closes every idle server now (PAUSE, RECONNECT). */
    void closeIdle(DisconnectReason reason) {
        ServerConnection s;
        while ((s = idle.pollFirst()) != null) {
            s.close(reason);
        }
    }

    /** Marks every server to be closed instead of reused; idle ones go now, leased ones when released. */
    void closeWhenReleased(DisconnectReason idleReason) {
        for (ServerConnection s : active.keySet()) {
            s.markCloseNeeded();
        }
        closeIdle(idleReason);
    }

    PoolSnapshot snapshot(long now) {
        return new PoolSnapshot(this, key, settings, new ArrayList<>(idle), new ArrayList<>(active.keySet()),
                opening.size(), waiters.size(), oldestWaitNanos(now), manager.isPaused(this));
    }

    /** Removes the coldest idle server for eviction; it keeps its slot until {@link #evictionDone()}. */
    /** Leased servers of this pool (for the database-wide count of leases). */
    int leasedCount() {
        return active.size();
    }

    ServerConnection evictColdestIdle() {
        ServerConnection s = idle.pollLast();
        if (s != null) {
            closing++;
        }
        return s;
    }

    /**
     * Session mode: the coldest idle server that {@code w} cannot use (opened with other startup
     * parameters) and no other waiter can either, removed for eviction like {@link #evictColdestIdle()};
     * null when there is none.
     */
    ServerConnection evictIdleUnfitFor(Waiter w) {
        if (w == null || w.startup() == null) {
            return null;
        }
        for (Iterator<ServerConnection> it = idle.descendingIterator(); it.hasNext(); ) {
            ServerConnection s = it.next();
            if (!w.fits(s) && waiters.stream().noneMatch(x -> x.fits(s))) {
                it.remove();
                closing++;
                return s;
            }
        }
        return null;
    }

    void evictionDone() {
        closing--;
    }

    @Override
    public String toString() {
        return "pool " + key;
    }
}
