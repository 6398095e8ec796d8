package dev.sluice.observe;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// The alert sink that is always on: one log line per fired and resolved alert, greppable by name.
final class LogSink implements AlertSink {
    private static final Logger log = LoggerFactory.getLogger("dev.sluice.alerts");

    @Override
    public void send(Alert alert) {
        if (!alert.firing()) {
            log.info("alert={} {}", alert.name(), alert.describe());
        } else if (alert.severity() == Alert.Severity.CRITICAL) {
            log.error("alert={} {}", alert.name(), alert.describe());
        } else {
            log.warn("alert={} {}", alert.name(), alert.describe());
        }
    }
}
