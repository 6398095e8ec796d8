package dev.sluice.observe;

import dev.sluice.config.AlertsConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Turns rule verdicts into alerts that fire after a while, resolve after a while, and are sent to sinks.
/**
 * Once a second the observer hands it a snapshot. Per instance (name + labels): a condition over its line
 * for {@code fireAfter} fires; a firing alert whose condition has been clearly back (below the threshold
 * minus the margin) for {@code resolve_after} resolves. An instance that a rule no longer reports (a leak
 * suspect gone, a workload removed) counts as clear. While firing, an alert's numbers and culprit are
 * refreshed for {@link #firing()} without notifying the sinks again, so nobody is paged twice.
 *
 * <p>{@link #evaluate} runs on one thread (the observer's); the read methods are safe from any thread.
 */
public final class AlertEngine {
    private static final Logger log = LoggerFactory.getLogger(AlertEngine.class);
    private static final int HISTORY = 500;

    /** A fired or resolved alert, in the order it happened. */
    public record Event(Instant at, Alert alert) {}

    private static final class Tracked {
        Instant pendingSince;
        Instant clearingSince;
        Alert firing;
    }

    private final AlertsConfig config;
    private final AlertRules rules;
    private final List<AlertSink> sinks = new CopyOnWriteArrayList<>();
    private final Map<String, Tracked> tracked = new LinkedHashMap<>();
    private final Map<String, Instant> firstFired = new ConcurrentHashMap<>();
    private final ArrayDeque<Event> history = new ArrayDeque<>();
    private volatile List<Alert> firing = List.of();

    public AlertEngine(AlertsConfig config) {
        this.config = config;
        this.rules = new AlertRules(config);
        sinks.add(new LogSink());
    }

    public AlertsConfig config() {
        return config;
    }

    /** Adds a sink (webhook, test probe); the log sink is always there. */
    public void addSink(AlertSink sink) {
        sinks.add(sink);
    }

    /** Alerts firing now, critical first, then oldest first; the admin console's SHOW ALERTS. */
    public List<Alert> firing() {
        return firing;
    }

    /** The last 500 fired/resolved events, oldest first. */
    public List<Event> history() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** When an alert of this name first fired since start (e.g. "SluiceBudgetHigh" for `sluice replay`). */
    public Optional<Instant> firstFired(String name) {
        return Optional.ofNullable(firstFired.get(name));
    }

    /** One evaluation: the rules' verdicts on {@code snapshot}, applied at {@code snapshot.at()}. */
    public void evaluate(ProxySnapshot snapshot) {
        Instant now = snapshot.at();
        List<AlertRules.Condition> conditions;
        try {
            conditions = rules.evaluate(snapshot);
        } catch (RuntimeException e) {
            log.error("alert rules failed; alerts keep their state until the next evaluation", e);
            return;
        }
        Set<String> seen = new HashSet<>();
        for (AlertRules.Condition c : conditions) {
            String key = c.key();
            seen.add(key);
            Tracked t = tracked.computeIfAbsent(key, k -> new Tracked());
            if (t.firing == null) {
                if (c.level() == AlertRules.Level.FIRE) {
                    if (t.pendingSince == null) {
                        t.pendingSince = now;
                    }
                    if (!Duration.between(t.pendingSince, now).minus(c.fireAfter()).isNegative()) {
                        fire(t, c, now);
                    }
                } else {
                    t.pendingSince = null;
                }
            } else {
                t.firing = new Alert(c.name(), c.severity(), c.labels(), c.summary(), c.culprit(), c.values(),
                        t.firing.startsAt(), null);
                clearing(t, c.level() == AlertRules.Level.CLEAR, now);
            }
        }
        for (var it = tracked.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            Tracked t = e.getValue();
            if (!seen.contains(e.getKey()) && t.firing != null) {
                clearing(t, true, now); // no longer reported: as good as clear
            }
            if (t.firing == null && (t.pendingSince == null || !seen.contains(e.getKey()))) {
                it.remove(); // neither firing nor pending: nothing to remember
            }
        }
        List<Alert> current = new ArrayList<>();
        for (Tracked t : tracked.values()) {
            if (t.firing != null) {
                current.add(t.firing);
            }
        }
        current.sort(Comparator.comparing((Alert a) -> a.severity() != Alert.Severity.CRITICAL)
                .thenComparing(Alert::startsAt));
        firing = List.copyOf(current);
    }

    private void clearing(Tracked t, boolean clear, Instant now) {
        if (!clear) {
            t.clearingSince = null;
            return;
        }
        if (t.clearingSince == null) {
            t.clearingSince = now;
        }
        if (!Duration.between(t.clearingSince, now).minus(config.resolveAfter()).isNegative()) {
            Alert resolved = t.firing.resolved(now);
            t.firing = null;
            t.pendingSince = null;
            t.clearingSince = null;
            record(resolved, now);
        }
    }

    private void fire(Tracked t, AlertRules.Condition c, Instant now) {
        t.firing = new Alert(c.name(), c.severity(), c.labels(), c.summary(), c.culprit(), c.values(), now, null);
        t.clearingSince = null;
        firstFired.putIfAbsent(c.name(), now);
        record(t.firing, now);
    }

    private void record(Alert a, Instant now) {
        synchronized (history) {
            history.addLast(new Event(now, a));
            while (history.size() > HISTORY) {
                history.pollFirst();
            }
        }
        for (AlertSink s : sinks) {
            try {
                s.send(a);
            } catch (RuntimeException e) {
                log.warn("alert sink {} failed: {}", s.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /** Closes the sinks (the webhook sender drains briefly). */
    public void close() {
        for (AlertSink s : sinks) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.debug("closing alert sink failed", e);
            }
        }
    }
}
