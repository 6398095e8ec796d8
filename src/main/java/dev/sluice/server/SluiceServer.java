package dev.sluice.server;

import dev.sluice.admin.AdminSession;
import dev.sluice.admin.ConsoleContext;
import dev.sluice.admin.ReloadResult;
import dev.sluice.admin.StatsAverages;
import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.Settings;
import dev.sluice.config.SettingsTable;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.CancelRegistry;
import dev.sluice.frontend.ClientSession;
import dev.sluice.frontend.PreparedStatementRegistry;
import dev.sluice.frontend.ProxyContext;
import dev.sluice.pool.PoolManager;
import dev.sluice.pool.PoolStats;
import dev.sluice.protocol.FrameDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: event loops (epoll when available), the client listener, the pools, the cancel
 * registry, the admin console, reload and shutdown, and the once-a-second housekeeping. Composition root:
 * everything is wired here, nowhere else. The current configuration lives in the PoolManager.
 */
public final class SluiceServer implements ProxyContext, ConsoleContext, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SluiceServer.class);

    private final Transport transport;
    private final EventLoopGroup workerGroup;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends Channel> socketChannelClass;
    private final PoolManager pools;
    private final CancelRegistry cancelRegistry = new CancelRegistry();
    private final PreparedStatementRegistry preparedStatements = new PreparedStatementRegistry();
    private final dev.sluice.frontend.LoginGuard loginGuard =
            new dev.sluice.frontend.LoginGuard(() -> config().settings().loginGuard());
    private final Set<ClientSession> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clientCount = new AtomicInteger();
    private final dev.sluice.guard.LeakDetector leakDetector;
    /** Metrics, alerts, health checks and the dashboard (dev.sluice.observe). */
    private final dev.sluice.observe.Observability observability;
    private final java.util.List<dev.sluice.guard.BudgetMonitor> budgetMonitors = new java.util.ArrayList<>();
    private final java.util.List<Channel> listeners = new java.util.ArrayList<>();
    /** Set by `sluice audit` before start(); null otherwise. */
    private volatile dev.sluice.audit.ConnectionEvents connectionEvents;
    private final Set<AdminSession> consoles = ConcurrentHashMap.newKeySet();
    private final PoolStats consoleStats = new PoolStats();
    private final StatsAverages averages = new StatsAverages();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    public SluiceServer(SluiceConfig config) {
        this(config, config.settings().effectiveWorkerThreads());
    }

    public SluiceServer(SluiceConfig config, int threads) {
        transport = Transport.choose();
        log.info("transport {} ({})", transport.name(), transport.why());
        workerGroup = new MultiThreadIoEventLoopGroup(threads, transport.ioHandler());
        serverChannelClass = transport.serverChannel();
        socketChannelClass = transport.socketChannel();
        pools = new PoolManager(config, workerGroup, socketChannelClass, transport.domainChannel());
        var st = config.settings();
        for (var target : dev.sluice.config.BudgetTargets.of(config)) {
            var monitor = dev.sluice.guard.BudgetMonitor.forTarget(target, st,
                    () -> pools.serverPids(target.server()), pools::onBudget);
            pools.attachBudget(target.server(), monitor);
            budgetMonitors.add(monitor);
        }
        leakDetector = new dev.sluice.guard.LeakDetector(st.leakIdleAge(), st.leakMinConnections(), st.leakWindow());
        observability = new dev.sluice.observe.Observability(new dev.sluice.observe.ProxyView(pools, budgetMonitors,
                leakDetector, this::clients, this::isShuttingDown), () -> listeners.isEmpty() ? 0 : port());
    }

    /** Binds the listener; returns the port (useful with listen_port = 0 in tests). */
    public int start() throws InterruptedException {
        var s = config().settings();
        ServerBootstrap b = new ServerBootstrap()
                .group(workerGroup)
                .channel(serverChannelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        Settings now = config().settings(); // SET and RELOAD apply to the next connection
                        TcpTuning.apply(ch, now.tcpKeepalive());
                        ch.pipeline().addLast("frames", new FrameDecoder(true, now.maxStartupPacketSize(),
                                now.maxClientMessageSize()));
                        ch.pipeline().addLast("session", new ClientSession(SluiceServer.this));
                    }
                });
        // listen_addr may list several addresses (PgBouncer syntax); "*" means every address.
        int port = s.listenPort();
        for (String raw : (s.listenAddr() == null ? "*" : s.listenAddr()).split(",")) {
            String addr = raw.trim();
            InetSocketAddress bind = (addr.equals("*") || addr.isEmpty())
                    ? new InetSocketAddress(port) : new InetSocketAddress(addr, port);
            Channel ch = b.bind(bind).sync().channel();
            listeners.add(ch);
            port = ((InetSocketAddress) ch.localAddress()).getPort(); // with listen_port = 0, all share the first
            log.info("sluice listening on {}:{} ({} worker threads, {})", bind.getHostString(), port,
                    workerGroup instanceof MultiThreadIoEventLoopGroup m ? m.executorCount() : -1,
                    transport.name());
        }
        if (s.unixSocketDir() != null && !s.unixSocketDir().isEmpty() && s.listenPort() > 0) {
            listenOnUnixSocket(s.unixSocketDir(), s.listenPort());
        }
        var tls = s.tls();
        if (tls.client().enabled()) {
            log.info("client TLS: client_tls_sslmode = {}, certificate {}", tls.client().mode().configWord(),
                    tls.client().summary());
        }
        if (tls.server().enabled()) {
            log.info("server TLS: server_tls_sslmode = {}", tls.server().mode().configWord());
        }
        pools.startJanitor();
        budgetMonitors.forEach(dev.sluice.guard.BudgetMonitor::start);
        observability.start();
        workerGroup.scheduleAtFixedRate(this::checkClientTimeouts, 1, 1, TimeUnit.SECONDS);
        workerGroup.scheduleAtFixedRate(this::updateAverages, 1, 1, TimeUnit.SECONDS);
        workerGroup.scheduleAtFixedRate(this::sampleLeaks, 1, 1, TimeUnit.SECONDS);
        workerGroup.scheduleAtFixedRate(() -> loginGuard.expire(System.nanoTime()), 10, 10, TimeUnit.SECONDS);
        return port;
    }

    /** unix_socket_dir: also accept clients on DIR/.s.PGSQL.PORT, as PostgreSQL and PgBouncer name it (epoll only). */
    private void listenOnUnixSocket(String dir, int port) throws InterruptedException {
        if (transport.serverDomainChannel() == null) {
            log.warn("unix_socket_dir = {} ignored: Unix-domain sockets need the epoll or io_uring transport", dir);
            return;
        }
        java.nio.file.Path path = java.nio.file.Path.of(dir, ".s.PGSQL." + port);
        try {
            java.nio.file.Files.deleteIfExists(path); // a stale socket from a previous run
        } catch (java.io.IOException e) {
            log.warn("could not remove stale socket {}: {}", path, e.toString());
        }
        ServerBootstrap b = new ServerBootstrap()
                .group(workerGroup)
                .channel(transport.serverDomainChannel())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        Settings st = config().settings(); // SET and RELOAD apply to the next connection
                        ch.pipeline().addLast("frames", new FrameDecoder(true, st.maxStartupPacketSize(),
                                st.maxClientMessageSize()));
                        ch.pipeline().addLast("session", new ClientSession(SluiceServer.this));
                    }
                });
        listeners.add(b.bind(new io.netty.channel.unix.DomainSocketAddress(path.toString())).sync().channel());
        path.toFile().setWritable(true, false);
        path.toFile().setReadable(true, false);
        log.info("sluice listening on Unix socket {}", path);
    }

    public int port() {
        return ((InetSocketAddress) listeners.get(0).localAddress()).getPort();
    }

    private void checkClientTimeouts() {
        long now = System.nanoTime();
        for (ClientSession c : clients) {
            c.eventLoop().execute(() -> c.checkTimeouts(now));
        }
    }

    private void updateAverages() {
        try {
            averages.tick(System.nanoTime(), config().settings().statsPeriod(), () -> {
                Map<String, PoolStats.Totals> totals = new TreeMap<>(StatsAverages.totalsByDatabase(pools.snapshot()));
                totals.put("pgbouncer", consoleStats.totals());
                return totals;
            });
        } catch (RuntimeException e) {
            log.error("stats averages failed", e);
        }
    }

    /** Once a second: which sources hold ever more idle client connections (leak suspects). */
    private void sampleLeaks() {
        try {
            long now = System.nanoTime();
            java.util.List<dev.sluice.guard.LeakDetector.ClientView> views = new java.util.ArrayList<>();
            for (ClientSession c : clients) {
                var v = c.leakView(now);
                if (v != null) {
                    views.add(v);
                }
            }
            leakDetector.sample(views, System.currentTimeMillis());
        } catch (RuntimeException e) {
            log.error("leak detector failed", e);
        }
    }

    /** Sets the listener told about every client connection's life (`sluice audit`); call before start(). */
    public void connectionEvents(dev.sluice.audit.ConnectionEvents events) {
        this.connectionEvents = events;
    }

    @Override
    public dev.sluice.audit.ConnectionEvents connectionEvents() {
        return connectionEvents;
    }

    public java.util.List<dev.sluice.guard.BudgetMonitor> budgetMonitors() {
        return budgetMonitors;
    }

    @Override
    public void leakRefused(dev.sluice.guard.LeakDetector.Source source) {
        leakDetector.noteRefused(source, System.currentTimeMillis());
    }

    public dev.sluice.guard.LeakDetector leakDetector() {
        return leakDetector;
    }

    /** Sluice's alerts: firing() for SHOW ALERTS, firstFired(name) for `sluice replay`, history(). */
    public dev.sluice.observe.AlertEngine alerts() {
        return observability.alerts();
    }

    /** The stats listener's port (/metrics, /healthz, /readyz, the dashboard); -1 when off. */
    public int statsPort() {
        return observability.statsPort();
    }

    @Override
    public dev.sluice.observe.ClientMetrics clientMetrics() {
        return observability.newClientMetrics();
    }

    @Override
    public SluiceConfig config() {
        return pools.config();
    }

    @Override
    public PoolManager pools() {
        return pools;
    }

    @Override
    public CancelRegistry cancelRegistry() {
        return cancelRegistry;
    }

    @Override
    public PreparedStatementRegistry preparedStatements() {
        return preparedStatements;
    }

    @Override
    public dev.sluice.frontend.LoginGuard loginGuard() {
        return loginGuard;
    }

    @Override
    public void clientOpened(ClientSession session) {
        clients.add(session);
        clientCount.incrementAndGet();
    }

    @Override
    public void clientClosed(ClientSession session) {
        if (clients.remove(session)) {
            clientCount.decrementAndGet();
        }
    }

    @Override
    public int clientCount() {
        return clientCount.get();
    }

    // ---- admin console ----

    @Override
    public void openConsole(Channel channel, long clientId, String user, Map<String, String> startupParameters) {
        channel.pipeline().replace("session", "admin", new AdminSession(this, clientId, user, startupParameters));
    }

    @Override
    public Collection<ClientSession> clients() {
        return Collections.unmodifiableSet(clients);
    }

    @Override
    public Collection<AdminSession> consoleSessions() {
        return Collections.unmodifiableSet(consoles);
    }

    @Override
    public void consoleOpened(AdminSession session) {
        consoles.add(session);
        clientCount.incrementAndGet(); // console connections count against max_client_conn too
    }

    @Override
    public void consoleClosed(AdminSession session) {
        if (consoles.remove(session)) {
            clientCount.decrementAndGet();
        }
    }

    @Override
    public StatsAverages averages() {
        return averages;
    }

    @Override
    public PoolStats consoleStats() {
        return consoleStats;
    }

    @Override
    public String version() {
        String v = SluiceServer.class.getPackage().getImplementationVersion();
        return "Sluice " + (v == null ? "dev" : v);
    }

    // ---- RELOAD / SIGHUP and SET ----

    /**
     * Re-reads the config file (and auth_file). With errors, every one is logged and the running
     * configuration stays. Otherwise it replaces the running one: pool sizes, limits and timeouts apply
     * at once, to existing pools too, without dropping any client; new [databases] entries can be used,
     * removed ones refuse new logins. listen_addr and listen_port need a restart.
     */
    @Override
    public synchronized ReloadResult reload() {
        SluiceConfig running = config();
        SluiceConfig loaded;
        try {
            loaded = ConfigLoader.load(running.source());
        } catch (ConfigException e) {
            List<String> errors = new ArrayList<>();
            for (ConfigProblem p : e.problems()) {
                errors.add(p.toString());
                log.error("reload: {}", p);
            }
            log.error("reload: {} has {} error(s); keeping the running configuration", running.source(), errors.size());
            return new ReloadResult(false, errors, List.of());
        }
        List<String> notes = new ArrayList<>();
        Settings settings = SettingsTable.forReload(running.settings(), loaded.settings(), notes);
        SluiceConfig next = SettingsTable.withSettings(loaded, settings);
        notes.addAll(changes(running, next));
        for (ConfigProblem w : loaded.warnings()) {
            notes.add(w.toString());
        }
        pools.applyConfig(next);
        for (String n : notes) {
            log.info("reload: {}", n);
        }
        log.info("reload: {} applied ({} change(s))", running.source(), notes.size());
        return new ReloadResult(true, List.of(), notes);
    }

    /** What a reload changed, one line each, for the log and the console. */
    private static List<String> changes(SluiceConfig before, SluiceConfig after) {
        List<String> out = new ArrayList<>();
        List<SettingsTable.Row> old = SettingsTable.rows(before.settings());
        List<SettingsTable.Row> now = SettingsTable.rows(after.settings());
        for (int i = 0; i < old.size(); i++) {
            if (!old.get(i).value().equals(now.get(i).value())) {
                out.add(now.get(i).key() + " changed from '" + old.get(i).value() + "' to '" + now.get(i).value() + "'");
            }
        }
        for (String db : after.databases().keySet()) {
            if (!before.databases().containsKey(db)) {
                out.add("[databases] " + db + " added");
            } else if (!Objects.equals(before.databases().get(db), after.databases().get(db))) {
                out.add("[databases] " + db + " changed");
            }
        }
        for (String db : before.databases().keySet()) {
            if (!after.databases().containsKey(db)) {
                out.add("[databases] " + db + " removed; its connected clients stay, new logins are refused");
            }
        }
        // The same file names may hold renewed certificates: say which certificate new connections get.
        var tlsBefore = before.settings().tls();
        var tlsAfter = after.settings().tls();
        if (tlsAfter.client().enabled() && !tlsAfter.client().summary().equals(tlsBefore.client().summary())) {
            out.add("client TLS certificate for new connections: " + tlsAfter.client().summary());
        }
        if (tlsAfter.server().enabled() && !tlsAfter.server().summary().equals(tlsBefore.server().summary())) {
            out.add("server TLS client certificate for new connections: " + tlsAfter.server().summary());
        }
        if (!withoutSource(before.workloads()).equals(withoutSource(after.workloads()))) {
            out.add("[workloads] changed; workloads are set up at start, so this takes effect after a restart");
        }
        return out;
    }

    /** Workload definitions compared by content, not by where in the file they are. */
    private static List<List<Object>> withoutSource(List<dev.sluice.config.WorkloadConfig> workloads) {
        List<List<Object>> out = new ArrayList<>();
        for (var w : workloads) {
            out.add(java.util.Arrays.asList(w.name(), w.matches(), w.reserve(), w.max(), w.maxClients(), w.priority(),
                    w.queueTimeout(), w.idleTransactionTimeout(), w.clientIdleTimeout(), w.breaker()));
        }
        return out;
    }

    @Override
    public synchronized void applySettings(Settings settings) {
        pools.applyConfig(SettingsTable.withSettings(config(), settings));
    }

    // ---- shutdown ----

    @Override
    public void shutdown() {
        Thread t = new Thread(() -> shutdownGracefully(config().settings().shutdownWaitTimeout()), "sluice-shutdown");
        t.setDaemon(false);
        t.start();
    }

    /**
     * SIGTERM and SHUTDOWN: stop accepting connections, close every client between transactions, let the
     * transactions in flight finish for up to {@code timeout}, then close everything. Blocks until done;
     * not to be called on an event loop.
     */
    public void shutdownGracefully(Duration timeout) {
        if (!draining.compareAndSet(false, true)) {
            terminated.join(); // already shutting down: wait for that one
            return;
        }
        log.info("shutdown: no longer accepting connections; waiting up to {}s for transactions in flight "
                + "(shutdown_wait_timeout)", timeout.toSeconds());
        for (Channel l : listeners) {
            l.close().syncUninterruptibly();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!clients.isEmpty()) {
            if (System.nanoTime() - deadline > 0) {
                log.warn("shutdown: {} client(s) still inside a transaction after {}s (shutdown_wait_timeout); "
                        + "closing them", clients.size(), timeout.toSeconds());
                break;
            }
            try {
                for (ClientSession c : clients) {
                    c.closeIfIdle();
                }
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                break; // an immediate shutdown (second signal, SIGINT) overtook this one
            }
        }
        close();
    }

    /** True once a graceful shutdown has begun (SIGTERM, SHUTDOWN). */
    public boolean isShuttingDown() {
        return draining.get();
    }

    /** Completes when the server has closed, however that was asked for. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    /** Immediate shutdown (SIGINT, end of tests): clients are told 57P01 and closed, then every server. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            terminated.join();
            return;
        }
        try {
            observability.close();
            for (Channel l : listeners) {
                l.close().syncUninterruptibly();
            }
            // Clients first (their servers are rolled back or closed as they leave), then every server.
            List<Future<Void>> sockets = new ArrayList<>();
            for (ClientSession c : clients) {
                sockets.add(c.closeForShutdown());
            }
            for (AdminSession a : consoles) {
                a.kill("sluice: terminating connection because the proxy is shutting down");
            }
            budgetMonitors.forEach(dev.sluice.guard.BudgetMonitor::close);
            sockets.addAll(pools.closeAll());
            // The event loops stop only once those sockets are closed (each within ~2 s: Closing.afterWrites).
            // On io_uring a close waits for the socket's pending operations; one still pending when its loop
            // stopped was finished by the loop's teardown, which could no longer run the deregistration and
            // logged a stack trace per socket (seen at the end of a soak run).
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            for (Future<Void> f : sockets) {
                f.awaitUninterruptibly(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            log.info("sluice stopped");
        } finally {
            terminated.complete(null);
        }
    }
}
