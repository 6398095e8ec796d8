package dev.sluice.cli;

import dev.sluice.config.ConfigException;
import dev.sluice.config.ConfigLoader;
import dev.sluice.config.ConfigProblem;
import dev.sluice.config.SluiceConfig;
import dev.sluice.server.SluiceServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** `sluice run FILE` (or `sluice FILE`): starts the proxy with a pgbouncer.ini-compatible config. */
@Command(name = "run", description = "Start the proxy with a pgbouncer.ini-compatible config file.")
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Parameters(index = "0", paramLabel = "CONFIG", description = "pgbouncer.ini or sluice.ini")
    Path config;

    @Override
    public Integer call() throws Exception {
        SluiceConfig cfg;
        try {
            cfg = ConfigLoader.load(config);
        } catch (ConfigException e) {
            System.err.println("sluice: " + config + " has " + e.problems().size() + " error(s); not starting:");
            for (ConfigProblem p : e.problems()) {
                System.err.println("  " + p);
            }
            return 2;
        }
        for (ConfigProblem w : cfg.warnings()) {
            log.warn("{}", w);
        }
        SluiceServer server;
        try {
            server = new SluiceServer(cfg);
        } catch (IllegalStateException e) { // e.g. SLUICE_TRANSPORT names a transport this machine lacks
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        // Before the listener opens: once a client (or an operator's script) can see Sluice up, SIGHUP must reload
        // and SIGTERM drain. Installed after start, a SIGHUP in between met the JVM's default action and stopped
        // the process (ShutdownTest's reload failed that way in CI: the heap settling below took that long).
        SignalHandlers.install(server);
        try {
            server.start();
        } catch (Exception e) {
            System.err.println("sluice: could not listen on " + cfg.settings().listenAddr() + ":"
                    + cfg.settings().listenPort() + ": " + e.getMessage());
            server.close();
            return 1;
        }
        settleHeap();
        server.terminated().join(); // SIGTERM, SIGINT or the console's SHUTDOWN
        return 0;
    }

    /** See {@link HeapSettle}; SLUICE_SETTLE_HEAP=0 turns it off (e.g. to measure without it). */
    private static void settleHeap() {
        if ("0".equals(System.getenv("SLUICE_SETTLE_HEAP"))) {
            return;
        }
        HeapSettle.Result r = HeapSettle.run();
        if (r.ran()) {
            log.info("start-up objects moved out of the young generation before clients arrive: {} {} collections, "
                    + "{} MB allocated, {} ms", r.collections(), r.collector(), r.allocatedBytes() >> 20, r.millis());
        }
    }

    /** Blocks until SIGTERM/SIGINT, then closes the resources (used by `sluice dev`). */
    static void awaitShutdown(AutoCloseable... resources) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (AutoCloseable r : resources) {
                try {
                    r.close();
                } catch (Exception e) {
                    log.warn("shutdown: {}", e.toString());
                }
            }
            done.countDown();
        }, "sluice-shutdown"));
        done.await();
    }
}
