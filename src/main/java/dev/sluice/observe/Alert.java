package dev.sluice.observe;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

// One alert instance as sinks, the dashboard and the admin console see it: firing, or resolved.
/**
 * @param name     stable, greppable: SluiceBudgetHigh, SluiceLeakSuspect, ... (AlertsConfig.ALERT_NAMES)
 * @param labels   what the instance is about: server, database, workload, source (an alert name and its
 *                 labels identify one instance, as in Prometheus)
 * @param summary  one line with the numbers
 * @param culprit  who is responsible, as far as Sluice can tell (workloads, applications, addresses)
 * @param values   the numbers behind the summary, by name (for webhooks and the console)
 * @param startsAt when it fired
 * @param endsAt   when it resolved; null while firing
 */
public record Alert(String name, Severity severity, Map<String, String> labels, String summary, String culprit,
        Map<String, Number> values, Instant startsAt, Instant endsAt) {

    public enum Severity {
        WARNING, CRITICAL;

        /** "warning" / "critical", as Prometheus rules label severity. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Alert {
        labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public boolean firing() {
        return endsAt == null;
    }

    /** The instance's identity: name and labels, e.g. SluiceBudgetHigh{server=127.0.0.1:5432}. */
    public String key() {
        return key(name, labels);
    }

    static String key(String name, Map<String, String> labels) {
        StringBuilder b = new StringBuilder(name).append('{');
        boolean first = true;
        for (Map.Entry<String, String> e : labels.entrySet()) {
            b.append(first ? "" : ",").append(e.getKey()).append('=').append(e.getValue());
            first = false;
        }
        return b.append('}').toString();
    }

    /** One line for logs and chat: "[FIRING] SluiceBudgetHigh (warning) server=...: summary; culprit: ...". */
    public String describe() {
        StringBuilder b = new StringBuilder(firing() ? "[FIRING] " : "[RESOLVED] ").append(name).append(" (")
                .append(severity.label()).append(')');
        labels.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        b.append(": ").append(summary);
        if (culprit != null && !culprit.isEmpty()) {
            b.append("; culprit: ").append(culprit);
        }
        return b.toString();
    }

    Alert resolved(Instant at) {
        return new Alert(name, severity, labels, summary, culprit, values, startsAt, at);
    }
}
