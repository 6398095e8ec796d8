package dev.sluice.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.LoggerFactory;

/** Log levels for the commands whose own output is the product (audit, replay): the proxy's chatter is turned down. */
final class Logs {
    private Logs() {}

    /** Only messages at {@code level} and above from Sluice's internals (unless SLUICE_LOG_LEVEL is set). */
    static void quietProxy(Level level) {
        if (System.getenv("SLUICE_LOG_LEVEL") != null) {
            return;
        }
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.getLogger("dev.sluice").setLevel(level);
        }
    }
}
