package dev.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

// Parses the [workloads] section: one workload per line, `name = match=... reserve=N max=N ...`.
final class WorkloadParser {
    private WorkloadParser() {}

    static List<WorkloadConfig> parse(List<RawEntry> entries, Problems problems) {
        Map<String, WorkloadConfig> byName = new LinkedHashMap<>();
        for (RawEntry e : entries) {
            WorkloadConfig w = parseOne(e, problems);
            if (w == null) {
                continue;
            }
            if (byName.containsKey(w.name())) {
                problems.error(e.file(), e.line(), "[workloads] " + w.name() + " is defined twice (first at "
                        + byName.get(w.name()).source() + ")");
                continue;
            }
            byName.put(w.name(), w);
        }
        List<WorkloadConfig> out = new ArrayList<>(byName.values());
        // "default" is checked last whatever its position: first match wins among the others.
        out.sort((a, b) -> Boolean.compare(a.name().equals(WorkloadConfig.DEFAULT), b.name().equals(WorkloadConfig.DEFAULT)));
        return out;
    }

    private static WorkloadConfig parseOne(RawEntry e, Problems problems) {
        String name = e.key().strip();
        if (!name.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
            problems.error(e.file(), e.line(), "[workloads] name \"" + name + "\" must be a word (letters, digits, _ . -)");
            return null;
        }
        List<WorkloadConfig.Match> matches = new ArrayList<>();
        int reserve = 0;
        int max = 0;
        int maxClients = 0;
        int priority = 0;
        int maxQueue = 0;
        Duration txTimeout = null;
        Duration queueTimeout = null;
        Duration idleTx = null;
        Duration clientIdle = null;
        int breakerRate = 0;
        int breakerWindow = 20;
        int breakerMinCalls = 10;
        Duration breakerOpenFor = Duration.ofSeconds(20);
        boolean ok = true;
        for (String token : Values.unquote(e.value()).trim().split("\\s+")) {
            if (token.isEmpty()) {
                continue;
            }
            int eq = token.indexOf('=');
            if (eq <= 0) {
                problems.error(e.file(), e.line(), "[workloads] " + name + ": \"" + token + "\" is not key=value");
                ok = false;
                continue;
            }
            String key = token.substring(0, eq).toLowerCase(Locale.ROOT);
            String value = token.substring(eq + 1);
            try {
                switch (key) {
                    case "match" -> matches.add(WorkloadConfig.Match.parse(value));
                    case "reserve" -> reserve = Values.nonNegativeInt(value);
                    case "max" -> max = Values.nonNegativeInt(value);
                    case "max_clients" -> maxClients = Values.nonNegativeInt(value);
                    case "priority" -> priority = Values.intInRange(value, 0, 1000);
                    case "queue_timeout" -> queueTimeout = Values.duration(value);
                    case "max_queue" -> maxQueue = Values.nonNegativeInt(value);
                    case "transaction_timeout" -> txTimeout = Values.duration(value);
                    case "idle_transaction_timeout" -> idleTx = Values.duration(value);
                    case "client_idle_timeout" -> clientIdle = Values.duration(value);
                    case "breaker_failure_rate" -> breakerRate = Values.intInRange(value.replace("%", ""), 1, 100);
                    case "breaker_window" -> breakerWindow = Values.intInRange(value, 2, 10_000);
                    case "breaker_min_calls" -> breakerMinCalls = Values.intInRange(value, 1, 10_000);
                    case "breaker_open_for" -> breakerOpenFor = Values.duration(value);
                    default -> throw new IllegalArgumentException("unknown key \"" + key + "\"; known: match, reserve, max,"
                            + " max_clients, priority, max_queue, queue_timeout, idle_transaction_timeout,"
                            + " transaction_timeout, client_idle_timeout,"
                            + " breaker_failure_rate, breaker_window, breaker_min_calls, breaker_open_for");
                }
            } catch (IllegalArgumentException ex) {
                problems.error(e.file(), e.line(), "[workloads] " + name + ": " + key + ": " + ex.getMessage());
                ok = false;
            }
        }
        boolean isDefault = name.equals(WorkloadConfig.DEFAULT);
        if (ok && matches.isEmpty() && !isDefault) {
            problems.error(e.file(), e.line(), "[workloads] " + name + " has no match=; say which clients belong to it"
                    + " (e.g. match=application_name:" + name + "*) or name it \"default\" to catch the rest");
            ok = false;
        }
        if (ok && isDefault && !matches.isEmpty()) {
            problems.error(e.file(), e.line(), "[workloads] default catches every client no other workload matched;"
                    + " it takes no match=");
            ok = false;
        }
        if (ok && max > 0 && reserve > max) {
            problems.error(e.file(), e.line(), "[workloads] " + name + ": reserve=" + reserve + " is above max=" + max);
            ok = false;
        }
        WorkloadConfig.Breaker breaker = breakerRate == 0 ? null
                : new WorkloadConfig.Breaker(breakerRate, breakerWindow, Math.min(breakerMinCalls, breakerWindow), breakerOpenFor);
        return ok ? new WorkloadConfig(name, matches, reserve, max, maxClients, priority, maxQueue, queueTimeout, idleTx,
                txTimeout, clientIdle, breaker, e.file() + ":" + e.line()) : null;
    }
}
