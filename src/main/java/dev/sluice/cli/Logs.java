package dev.sluice.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Logging for the commands whose own output is the product (audit, replay): the proxy's chatter is turned down or moved. */
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

    /**
     * Sends every log line to {@code file} instead of the console (the replay draws a progress bar there);
     * returns false when logback is not the logging backend.
     */
    static boolean toFile(Path file) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return false;
        }
        ch.qos.logback.classic.Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        List<Appender<ILoggingEvent>> old = new ArrayList<>();
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            old.add(it.next());
        }
        PatternLayoutEncoder enc = new PatternLayoutEncoder();
        enc.setContext(ctx);
        enc.setPattern("%d{HH:mm:ss.SSS} %-5level [%thread] %logger{0}: %msg%n");
        enc.start();
        FileAppender<ILoggingEvent> fa = new FileAppender<>();
        fa.setContext(ctx);
        fa.setName("replay-file");
        fa.setFile(file.toString());
        fa.setAppend(false);
        fa.setEncoder(enc);
        fa.start();
        root.addAppender(fa);
        for (Appender<ILoggingEvent> a : old) {
            root.detachAppender(a);
        }
        return true;
    }
}
