package dev.sluice.cli;

import dev.sluice.admin.ReloadResult;
import dev.sluice.server.SluiceServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The signals `sluice run` obeys, as PgBouncer's operators expect: SIGHUP reloads the config; SIGTERM stops
 * accepting connections and lets transactions in flight finish (up to shutdown_wait_timeout) before
 * exiting; a second SIGTERM, or SIGINT, shuts down at once. sun.misc.Signal (module jdk.unsupported) is
 * the only way Java offers to catch SIGHUP; it replaces the JVM's default TERM/INT handling.
 */
final class SignalHandlers {
    private static final Logger log = LoggerFactory.getLogger(SignalHandlers.class);

    private SignalHandlers() {}

    static void install(SluiceServer server) {
        Signal.handle(new Signal("HUP"), sig -> {
            log.info("SIGHUP: reloading {}", server.config().source());
            ReloadResult r = server.reload();
            if (!r.applied()) {
                log.error("SIGHUP: the config has errors (logged above); still running with the previous one");
            }
        });
        Signal.handle(new Signal("TERM"), sig -> {
            if (server.isShuttingDown()) {
                log.info("SIGTERM again: shutting down now");
                background(server::close);
            } else {
                log.info("SIGTERM: graceful shutdown");
                background(() -> server.shutdownGracefully(server.config().settings().shutdownWaitTimeout()));
            }
        });
        Signal.handle(new Signal("INT"), sig -> {
            log.info("SIGINT: shutting down now");
            background(server::close);
        });
    }

    /** Signal handlers run on a JVM thread that must not block for long. */
    private static void background(Runnable r) {
        Thread t = new Thread(r, "sluice-shutdown");
        t.start();
    }
}
