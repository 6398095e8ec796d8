package dev.sluice.replay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The replay's findings as a side-by-side terminal table and as JSON. */
public final class ReplayReport {
    private ReplayReport() {}

    public static String table(Replay.Outcome o) {
        List<String> modes = new ArrayList<>(o.modes().keySet());
        StringBuilder sb = new StringBuilder();
        Scenario s = o.scenario();
        sb.append(String.format(Locale.ROOT, "%nsluice replay: %s — %s timeline, job deployed at %s%s; %s leak; API %s"
                        + " req/s; PostgreSQL max_connections=%d (%d for the app)%n%n", s.name(),
                Durations.format(s.duration()), Durations.format(s.deployAt()),
                s.fixAt() == null ? ", never fixed" : ", fixed at " + Durations.format(s.fixAt()), s.leak(),
                Replay.trim(s.apiRate()), o.maxConnections(), o.ordinarySlots()));
        String fmt = "  %-38s" + " %-22s".repeat(modes.size()) + "%n";
        List<Object> head = new ArrayList<>();
        head.add("");
        head.addAll(modes);
        sb.append(String.format(Locale.ROOT, fmt, head.toArray()));
        for (List<String> row : rows(o)) {
            sb.append(String.format(Locale.ROOT, fmt, row.toArray()));
        }
        for (Map.Entry<String, String> e : o.skipped().entrySet()) {
            sb.append("  ").append(e.getKey()).append(": skipped: ").append(e.getValue()).append('\n');
        }
        sb.append('\n');
        for (Replay.Check c : o.checks()) {
            sb.append(String.format(Locale.ROOT, "  [%s] %-9s %s%n         %s%n", c.passed() ? "ok" : c.aboutSluice()
                    ? "FAIL" : "no", c.mode(), c.expectation(), c.evidence()));
        }
        ModeResult sl = o.modes().get("sluice");
        if (sl != null && !sl.alerts.isEmpty()) {
            sb.append("\n  Sluice's alerts after the deploy:\n");
            for (Map<String, Object> a : sl.alerts) {
                sb.append(String.format(Locale.ROOT, "    +%5.1fs %-24s %s%n", ((Number) a.get("at_s")).doubleValue(),
                        a.get("name"), a.get("summary")));
            }
        }
        return sb.toString();
    }

    /** The side-by-side rows: a label, then one cell per mode that ran. */
    static List<List<String>> rows(Replay.Outcome o) {
        List<List<String>> rows = new ArrayList<>();
        row(rows, o, "API requests", r -> String.valueOf(r.apiRequests));
        row(rows, o, "API availability (whole run)", r -> Replay.pct(r.availability()));
        row(rows, o, "  between deploy and fix", r -> Replay.pct(r.incidentAvailability));
        row(rows, o, "  once the database was full", r -> r.dbFullS == null ? "never full"
                : Replay.pct(r.availabilityAfterFull) + " (+" + secs(r.dbFullS) + ")");
        row(rows, o, "API errors (500 / timeout / other)", r -> r.api5xx + " / " + r.apiTimeouts + " / " + r.apiOtherErrors);
        row(rows, o, "latency p50 / p99", r -> ms(r.p50Ms) + " / " + ms(r.p99Ms));
        row(rows, o, "peak DB connections", r -> r.peakDbConnections + " / " + o.ordinarySlots());
        row(rows, o, "job connections leaked (peak)", r -> String.valueOf(r.jobPeakHeld));
        row(rows, o, "job tasks refused or failed", r -> r.jobFailures + " of " + r.jobTasks);
        row(rows, o, "time to first refusal of the job", r -> r.firstRefusalS == null ? "—" : "+" + secs(r.firstRefusalS));
        row(rows, o, "time to first alert (after deploy)", r -> r.firstAlertS == null ? "—" : "+" + secs(r.firstAlertS)
                + (r.alerts.isEmpty() ? "" : " " + shortName((String) r.alerts.get(0).get("name"))));
        row(rows, o, "time to leak attribution", r -> r.leakAttributedS == null ? "—" : "+" + secs(r.leakAttributedS));
        if (o.scenario().fixAt() != null) {
            row(rows, o, "API healthy again (after deploy)", r -> r.recoveredS != null ? "+" + secs(r.recoveredS)
                    : !r.apiWentDown ? "never down" : "not by the end");
        }
        return rows;
    }

    private static void row(List<List<String>> rows, Replay.Outcome o, String label, Function<ModeResult, String> f) {
        List<String> cells = new ArrayList<>();
        cells.add(label);
        for (ModeResult r : o.modes().values()) {
            cells.add(f.apply(r));
        }
        rows.add(cells);
    }

    private static String shortName(String alert) {
        return alert.startsWith("Sluice") ? alert.substring("Sluice".length()) : alert;
    }

    static String secs(double s) {
        return String.format(Locale.ROOT, "%.1fs", s);
    }

    static String ms(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0fms", v) : String.format(Locale.ROOT, "%.1fms", v);
    }

    public static Map<String, Object> json(Replay.Outcome o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("tool", "sluice replay");
        j.put("scenario", o.scenario().toJson());
        j.put("max_connections", o.maxConnections());
        j.put("ordinary_connection_slots", o.ordinarySlots());
        j.put("definitions", Map.of(
                "api_availability", "share of API requests (due in the run) answered without HTTP 5xx, timeout or"
                        + " connection error; 4xx business answers count as answered",
                "first_alert_s", "seconds after the job's deploy until Sluice's alert engine fired its first alert"
                        + " (null: no alert; direct and PgBouncer have none); first_refusal_s: until Sluice first"
                        + " refused the job",
                "leak_attributed_s", "seconds after the job's deploy until Sluice's leak detector named the job's"
                        + " source (workload, application_name, user, address)",
                "db_full_s", "seconds after the deploy until the app's connections filled max_connections minus"
                        + " the superuser-reserved slots",
                "job_peak_connections_held", "connections the job opened and never closed, as the job sees them;"
                        + " through Sluice some of them may have been closed by Sluice meanwhile",
                "series", "one point per second [t-1, t); API numbers by the second the request was due,"
                        + " database and job numbers sampled at t"));
        Map<String, Object> modes = new LinkedHashMap<>();
        for (String m : Scenario.ALL_MODES) {
            ModeResult r = o.modes().get(m);
            if (r != null) {
                modes.put(m, r.toJson());
            } else {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("ran", false);
                x.put("skipped", o.skipped().getOrDefault(m, "not in the scenario's modes"));
                modes.put(m, x);
            }
        }
        j.put("modes", modes);
        List<Object> checks = new ArrayList<>();
        for (Replay.Check c : o.checks()) {
            checks.add(c.toJson());
        }
        j.put("checks", checks);
        j.put("sluice_met_expectations", o.sluiceMetExpectations());
        return j;
    }
}
