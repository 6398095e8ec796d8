package dev.sluice.server;

import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.CancelRegistry;
import dev.sluice.frontend.ClientSession;
import dev.sluice.frontend.PreparedStatementRegistry;
import dev.sluice.frontend.ProxyContext;
import dev.sluice.pool.PoolManager;
import dev.sluice.protocol.FrameDecoder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: event loops (epoll when available), the client listener, the pools, the cancel
 * registry and the once-a-second housekeeping. Composition root: everything is wired here, nowhere else.
 */
public final class SluiceServer implements ProxyContext, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SluiceServer.class);

    private final SluiceConfig config;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends Channel> socketChannelClass;
    private final PoolManager pools;
    private final CancelRegistry cancelRegistry = new CancelRegistry();
    private final PreparedStatementRegistry preparedStatements = new PreparedStatementRegistry();
    private final Set<ClientSession> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger clientCount = new AtomicInteger();
    private final dev.sluice.guard.LeakDetector leakDetector;
    private final java.util.List<dev.sluice.guard.BudgetMonitor> budgetMonitors = new java.util.ArrayList<>();
    private final java.util.List<Channel> listeners = new java.util.ArrayList<>();
    /** Metrics, alerts, health checks and the dashboard (dev.sluice.observe). */
    private final dev.sluice.observe.Observability observability;

    public SluiceServer(SluiceConfig config) {
        this(config, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    public SluiceServer(SluiceConfig config, int threads) {
        this.config = config;
        boolean epoll = Epoll.isAvailable();
        if (epoll) {
            bossGroup = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            workerGroup = new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory());
            serverChannelClass = EpollServerSocketChannel.class;
            socketChannelClass = EpollSocketChannel.class;
        } else {
            bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            workerGroup = new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
            serverChannelClass = NioServerSocketChannel.class;
            socketChannelClass = NioSocketChannel.class;
        }
        pools = new PoolManager(config, workerGroup, socketChannelClass, epoll ? EpollDomainSocketChannel.class : null);
        var st = config.settings();
        for (var target : dev.sluice.config.BudgetTargets.of(config)) {
            var monitor = dev.sluice.guard.BudgetMonitor.forTarget(target, st,
                    () -> pools.serverPids(target.server()), pools::onBudget);
            pools.attachBudget(target.server(), monitor);
            budgetMonitors.add(monitor);
        }
        leakDetector = new dev.sluice.guard.LeakDetector(st.leakIdleAge(), st.leakMinConnections(), st.leakWindow());
        observability = new dev.sluice.observe.Observability(new dev.sluice.observe.ProxyView(config, pools,
                budgetMonitors, leakDetector, this::clients), () -> listeners.isEmpty() ? 0 : port());
    }

    /** Binds the listener; returns the port (useful with listen_port = 0 in tests). */
    public int start() throws InterruptedException {
        var s = config.settings();
        ServerBootstrap b = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(serverChannelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("frames", new FrameDecoder(true, s.maxStartupPacketSize(),
                                s.maxClientMessageSize()));
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
                    Epoll.isAvailable() ? "epoll" : "nio");
        }
        pools.startJanitor();
        budgetMonitors.forEach(dev.sluice.guard.BudgetMonitor::start);
        observability.start();
        workerGroup.scheduleAtFixedRate(this::checkClientTimeouts, 1, 1, TimeUnit.SECONDS);
        workerGroup.scheduleAtFixedRate(this::sampleLeaks, 1, 1, TimeUnit.SECONDS);
        if (!s.adminUsers().isEmpty() || !s.statsUsers().isEmpty()) {
            log.warn("admin_users/stats_users are set, but the admin console is not available in this version yet");
        }
        return port;
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

    public java.util.List<dev.sluice.guard.BudgetMonitor> budgetMonitors() {
        return budgetMonitors;
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

    /** The connected clients (a live, read-only view). */
    public java.util.Collection<ClientSession> clients() {
        return java.util.Collections.unmodifiableSet(clients);
    }

    @Override
    public dev.sluice.observe.ClientMetrics clientMetrics() {
        return observability.newClientMetrics();
    }

    @Override
    public SluiceConfig config() {
        return config;
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

    @Override
    public void close() {
        observability.close();
        for (Channel l : listeners) {
            l.close().syncUninterruptibly();
        }
        // Clients first (their servers are rolled back or closed as they leave), then every server.
        for (ClientSession c : clients) {
            c.closeForShutdown();
        }
        budgetMonitors.forEach(dev.sluice.guard.BudgetMonitor::close);
        pools.closeAll();
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
