package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import dev.sluice.bench.FakePostgres;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.guard.Workload;
import dev.sluice.protocol.ErrorResponse;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Lease and return of an idle server (what every transaction in transaction mode costs the pool:
 * PoolManager.acquire finds an idle server, PoolManager.release parks it again), and workload admission
 * alone. The pool holds one real ServerConnection, logged in over TCP to an in-process fake PostgreSQL
 * ({@link FakePostgres}); no Sluice class is mocked. In the same package as PoolManager because
 * {@code admissible} is package-private.
 *
 * <p>{@code workloads=none}: no [workloads] section (admission is skipped). {@code workloads=four}: api
 * (reserve 10), batch (reserve 2, max 4), analytics (max 5, the leasing client's workload: beyond its
 * reserve of 0, so admission sums what is owed to the others) and default.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled") // as the shipped runtime runs
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PoolBenchmark {
    @Param({"none", "four"})
    public String workloads;

    private EventLoopGroup group;
    private FakePostgres postgres;
    private Path dir;
    private PoolManager manager;
    private Pool pool;
    private Workload workload;
    private Waiter waiter;

    /** A client session as the pool sees it: its event loop and workload. */
    static final class Waiter implements ServerWaiter {
        final EventLoop loop;
        final Workload workload;
        final CompletableFuture<ServerConnection> leased = new CompletableFuture<>();

        Waiter(EventLoop loop, Workload workload) {
            this.loop = loop;
            this.workload = workload;
        }

        @Override
        public EventLoop eventLoop() {
            return loop;
        }

        @Override
        public Workload workload() {
            return workload;
        }

        @Override
        public void serverLeased(ServerConnection server) {
            leased.complete(server);
        }

        @Override
        public void serverUnavailable(ErrorResponse error) {
            leased.completeExceptionally(new IllegalStateException(error.message()));
        }
    }

    @Setup
    public void setUp() throws Exception {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        postgres = new FakePostgres(group);
        dir = Files.createTempDirectory("sluice-jmh");
        String ini = "[databases]\n"
                + "bench = host=127.0.0.1 port=" + postgres.port() + " dbname=bench\n"
                + "[sluice]\n"
                + "listen_addr = 127.0.0.1\n"
                + "listen_port = 6432\n"
                + "auth_type = trust\n"
                + "pool_mode = transaction\n"
                + "default_pool_size = 40\n"
                + "max_client_conn = 100\n";
        if (workloads.equals("four")) {
            ini += "[workloads]\n"
                    + "api = match=application_name:api* reserve=10 priority=10\n"
                    + "batch = match=application_name:batch* reserve=2 max=4\n"
                    + "analytics = match=application_name:analytics* max=5\n"
                    + "default = max=20\n";
        }
        Path file = dir.resolve("bench.ini");
        Files.writeString(file, ini);
        SluiceConfig config = ConfigLoader.load(file);
        manager = new PoolManager(config, group, NioSocketChannel.class, null);
        pool = manager.poolFor(config.databases().get("bench"), "bench");
        workload = manager.workloads().classify("bench", "bench", "analytics-job", InetAddress.getLoopbackAddress());
        waiter = new Waiter(group.next(), workload);
        // The first lease opens the server connection (queued, then handed over on the event loop).
        ServerConnection s = manager.acquire(pool, waiter);
        if (s == null) {
            s = waiter.leased.get(10, TimeUnit.SECONDS);
        }
        manager.release(pool, s);
        if (manager.acquire(pool, waiter) != s) {
            throw new IllegalStateException("the idle server was not leased again");
        }
        manager.release(pool, s);
    }

    @TearDown
    public void tearDown() throws Exception {
        manager.closeAll();
        postgres.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        Files.deleteIfExists(dir.resolve("bench.ini"));
        Files.deleteIfExists(dir);
    }

    @Benchmark
    public ServerConnection leaseAndReturn() {
        ServerConnection s = manager.acquire(pool, waiter);
        manager.release(pool, s);
        return s;
    }

    @Benchmark
    public boolean admissible() {
        return manager.admissible(workload, pool); // called under the manager's lock in Sluice; the lock is not measured here
    }
}
