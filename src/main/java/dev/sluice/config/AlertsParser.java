package dev.sluice.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

// Parses the [alerts] section: `key = value` lines, every problem reported with its file and line.
final class AlertsParser {

    private static final List<String> KEYS = List.of("budget_warn", "budget_critical", "bypass_warn", "shed_warn",
            "auth_failures_warn", "fire_after", "resolve_after", "resolve_margin", "webhook", "webhook_format",
            "disable");

    private AlertsParser() {
    }

    static AlertsConfig parse(List<RawEntry> entries, Problems problems) {
        AlertsConfig d = AlertsConfig.defaults();
        double budgetWarn = d.budgetWarn();
        double budgetCritical = d.budgetCritical();
        int bypassWarn = d.bypassWarn();
        int shedWarn = d.shedWarn();
        int authWarn = d.authFailuresWarn();
        Duration fireAfter = d.fireAfter();
        Duration resolveAfter = d.resolveAfter();
        double margin = d.resolveMargin();
        URI webhook = d.webhook();
        String format = d.webhookFormat();
        Set<String> disabled = new LinkedHashSet<>();
        Map<String, RawEntry> setAt = new HashMap<>();
        for (RawEntry e : entries) {
            String key = e.key().strip().toLowerCase(Locale.ROOT);
            String v = Values.unquote(e.value().strip());
            if (!KEYS.contains(key)) {
                problems.error(e.file(), e.line(), "[alerts] unknown key '" + e.key().strip() + "'" + suggestion(key)
                        + "; known: " + String.join(", ", KEYS));
                continue;
            }
            RawEntry earlier = setAt.put(key, e);
            if (earlier != null) {
                problems.warn(e.file(), e.line(), "[alerts] " + key + " is set again (first at " + earlier.source()
                        + "); this later value wins");
            }
            try {
                switch (key) {
                    case "budget_warn" -> budgetWarn = percent(v);
                    case "budget_critical" -> budgetCritical = percent(v);
                    case "bypass_warn" -> bypassWarn = countOrOff(v);
                    case "shed_warn" -> shedWarn = countOrOff(v);
                    case "auth_failures_warn" -> authWarn = countOrOff(v);
                    case "fire_after" -> fireAfter = Values.duration(v);
                    case "resolve_after" -> resolveAfter = Values.duration(v);
                    case "resolve_margin" -> margin = margin(v);
                    case "webhook" -> webhook = webhook(v);
                    case "webhook_format" -> format = webhookFormat(v);
                    case "disable" -> {
                        disabled.clear();
                        for (String name : Values.list(v)) {
                            String known = AlertsConfig.ALERT_NAMES.stream().filter(n -> n.equalsIgnoreCase(name))
                                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no alert is named "
                                            + Values.quoted(name) + "; the alerts are "
                                            + String.join(", ", AlertsConfig.ALERT_NAMES)));
                            disabled.add(known);
                        }
                    }
                    default -> throw new IllegalStateException("KEYS lists " + key + " but parse does not handle it");
                }
            } catch (IllegalArgumentException ex) {
                problems.error(e.file(), e.line(), "[alerts] " + key + ": " + ex.getMessage());
            }
        }
        if (budgetWarn >= 0 && budgetCritical >= 0 && budgetCritical < budgetWarn) {
            RawEntry at = setAt.getOrDefault("budget_critical", setAt.get("budget_warn"));
            problems.error(at.file(), at.line(), "[alerts] budget_critical (" + pct(budgetCritical)
                    + ") is below budget_warn (" + pct(budgetWarn) + "); the critical alert must come last");
        }
        if (webhook == null && setAt.containsKey("webhook_format")) {
            RawEntry at = setAt.get("webhook_format");
            problems.warn(at.file(), at.line(), "[alerts] webhook_format is set but there is no webhook; alerts go to "
                    + "the log only");
        }
        return new AlertsConfig(budgetWarn, budgetCritical, bypassWarn, shedWarn, authWarn, fireAfter, resolveAfter,
                margin, webhook, format, disabled);
    }

    /** "80%", "80" (both 80 percent) or "off"; above 0 and at most 100. */
    private static double percent(String v) {
        if (isOff(v)) {
            return AlertsConfig.OFF;
        }
        String n = v.endsWith("%") ? v.substring(0, v.length() - 1).strip() : v;
        double p;
        try {
            p = Double.parseDouble(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(Values.quoted(v) + " is not a percentage; write e.g. 80% (or off)");
        }
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException(Values.quoted(v) + " is out of range; use a percentage above 0% and at "
                    + "most 100%, or off");
        }
        return p / 100.0;
    }

    private static double margin(String v) {
        String n = v.endsWith("%") ? v.substring(0, v.length() - 1).strip() : v;
        try {
            double p = Double.parseDouble(n);
            if (p >= 0 && p < 100) {
                return p / 100.0;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(Values.quoted(v) + " is not a margin; write a percentage from 0% to 99% "
                + "(5% = a threshold alert resolves below 95% of its threshold)");
    }

    private static int countOrOff(String v) {
        return isOff(v) ? AlertsConfig.OFF : Values.nonNegativeInt(v);
    }

    private static boolean isOff(String v) {
        return v.equalsIgnoreCase("off");
    }

    private static URI webhook(String v) {
        if (v.isEmpty()) {
            return null;
        }
        try {
            URI u = new URI(v);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && u.getHost() != null) {
                return u;
            }
        } catch (URISyntaxException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(Values.quoted(v) + " is not an http:// or https:// URL with a host");
    }

    private static String webhookFormat(String v) {
        String f = v.toLowerCase(Locale.ROOT);
        if (f.equals("json") || f.equals("slack")) {
            return f;
        }
        throw new IllegalArgumentException(Values.quoted(v) + " is not a webhook format; use json (Sluice's payload) "
                + "or slack (a message with a text field, for Slack-compatible incoming webhooks)");
    }

    private static String pct(double fraction) {
        double p = fraction * 100;
        return (p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p)) + "%";
    }

    private static String suggestion(String key) {
        String best = null;
        int bestDistance = 3;
        for (String k : KEYS) {
            int d = SettingsParser.editDistance(key, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }
}
