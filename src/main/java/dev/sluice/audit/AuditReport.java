package dev.sluice.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The audit's findings: a table per application and client, the policy violations, text and JSON forms. */
final class AuditReport {
    private final AuditOptions options;
    private final int exitCode;
    private final double seconds;
    private final List<ConnectionRecord> records;
    private final List<Audit.Group> groups = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final int peak;

    AuditReport(AuditOptions options, int exitCode, double seconds, List<ConnectionRecord> records) {
        this.options = options;
        this.exitCode = exitCode;
        this.seconds = seconds;
        this.records = records;
        Audit.grouped(records).forEach((k, v) -> groups.add(new Audit.Group(k.get(0), k.get(1), v)));
        this.peak = Audit.peakConcurrent(records);
        judge();
    }

    private void judge() {
        for (Audit.Group g : groups) {
            String who = who(g);
            long leaked = g.leaked();
            if (leaked > 0 && !options.allowLeaks()) {
                long open = g.count(ConnectionRecord.Ending.STILL_OPEN);
                long abandoned = g.count(ConnectionRecord.Ending.ABANDONED);
                List<String> how = new ArrayList<>();
                if (open > 0) {
                    how.add(open + " still open when the command returned");
                }
                if (abandoned > 0) {
                    how.add(abandoned + " dropped without Terminate (the process exited or closed the socket"
                            + " without closing the connection)");
                }
                violations.add("leaked connections: " + who + " never closed " + leaked + " of its " + g.opened()
                        + " connection(s): " + String.join(", ", how) + ". Close every connection (try/finally,"
                        + " `with`, try-with-resources) or use a pool and return connections to it.");
            }
            long sluiceClosed = g.count(ConnectionRecord.Ending.CLOSED_BY_SLUICE);
            if (sluiceClosed > 0) {
                violations.add("closed by Sluice: " + who + " had " + sluiceClosed + " connection(s) closed by the"
                        + " proxy (" + reasons(g) + ")");
            }
            double limit = options.maxIdleInTransaction().toMillis() / 1000.0;
            if (limit > 0 && g.longestIdleInTxn() > limit) {
                violations.add(String.format(Locale.ROOT, "idle in transaction: %s left a transaction open and idle"
                        + " for %.1fs (limit %s, --max-idle-in-transaction). Commit or roll back before doing"
                        + " other work.", who, g.longestIdleInTxn(), secs(limit)));
            }
        }
        if (options.maxConnections() > 0 && peak > options.maxConnections()) {
            violations.add("too many connections: the command held " + peak + " connections at once (limit "
                    + options.maxConnections() + ", --max-connections)");
        }
        if (exitCode != 0) {
            violations.add("the command failed: exit status " + exitCode);
        }
    }

    private static String reasons(Audit.Group g) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (ConnectionRecord c : g.connections()) {
            if (c.ending() == ConnectionRecord.Ending.CLOSED_BY_SLUICE) {
                m.merge("reason=" + c.closeReason(), 1, Integer::sum);
            }
        }
        return m.toString().replaceAll("[{}]", "");
    }

    private static String who(Audit.Group g) {
        String app = g.applicationName().isEmpty() ? "(no application_name)" : "application_name \"" + g.applicationName() + "\"";
        List<Long> pids = g.pids();
        String client = g.client() + (pids.isEmpty() ? "" : pids.size() == 1 ? " pid " + pids.get(0)
                : " " + pids.size() + " processes");
        return app + " (" + client + ")";
    }

    List<String> violations() {
        return violations;
    }

    String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nsluice audit: `%s` exited %d after %.1fs; %d connection(s), at most %d"
                + " at once%n%n", String.join(" ", options.command()), exitCode, seconds, records.size(), peak));
        if (!groups.isEmpty()) {
            String fmt = "  %-22s %-22s %6s %6s %6s %5s %10s %10s %10s%n";
            sb.append(String.format(Locale.ROOT, fmt, "application_name", "client", "opened", "closed", "leaked",
                    "peak", "max idle", "max txn", "statements"));
            sb.append(String.format(Locale.ROOT, fmt, "", "", "", "", "", "", "in txn", "", ""));
            for (Audit.Group g : groups) {
                List<Long> pids = g.pids();
                String client = g.client() + (pids.size() == 1 ? " (" + pids.get(0) + ")"
                        : pids.size() > 1 ? " (" + pids.size() + " procs)" : "");
                sb.append(String.format(Locale.ROOT, fmt, cut(g.applicationName().isEmpty() ? "(none)"
                        : g.applicationName(), 22), cut(client, 22), g.opened(),
                        g.count(ConnectionRecord.Ending.CLOSED), g.leaked(), g.peak(), secs(g.longestIdleInTxn()),
                        secs(g.longestTxn()), g.statements()));
            }
            sb.append('\n');
        }
        if (violations.isEmpty()) {
            sb.append("audit PASSED: every connection was closed by the program");
            if (options.maxIdleInTransaction().toMillis() > 0) {
                sb.append(", no transaction sat idle longer than ").append(secs(options.maxIdleInTransaction()
                        .toMillis() / 1000.0));
            }
            if (options.maxConnections() > 0) {
                sb.append(", at most ").append(peak).append(" of ").append(options.maxConnections())
                        .append(" allowed connections at once");
            }
            sb.append(".\n");
        } else {
            sb.append("audit FAILED (").append(violations.size()).append(" problem(s)):\n");
            for (String v : violations) {
                sb.append("  - ").append(v).append('\n');
            }
        }
        return sb.toString();
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", options.command());
        m.put("exit_code", exitCode);
        m.put("duration_s", round(seconds));
        m.put("passed", violations.isEmpty());
        Map<String, Object> policy = new LinkedHashMap<>();
        policy.put("leaks_allowed", options.allowLeaks());
        policy.put("max_connections", options.maxConnections() > 0 ? options.maxConnections() : null);
        policy.put("max_idle_in_transaction_s", options.maxIdleInTransaction().toMillis() > 0
                ? options.maxIdleInTransaction().toMillis() / 1000.0 : null);
        m.put("policy", policy);
        m.put("violations", violations);
        m.put("connections_total", records.size());
        m.put("peak_concurrent", peak);
        List<Object> gs = new ArrayList<>();
        for (Audit.Group g : groups) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("application_name", g.applicationName());
            j.put("client", g.client());
            j.put("pids", g.pids());
            j.put("opened", g.opened());
            j.put("closed", g.count(ConnectionRecord.Ending.CLOSED));
            j.put("leaked", g.leaked());
            j.put("leaked_still_open", g.count(ConnectionRecord.Ending.STILL_OPEN));
            j.put("leaked_without_terminate", g.count(ConnectionRecord.Ending.ABANDONED));
            j.put("closed_by_sluice", g.count(ConnectionRecord.Ending.CLOSED_BY_SLUICE));
            j.put("peak_concurrent", g.peak());
            j.put("longest_idle_in_transaction_s", round(g.longestIdleInTxn()));
            j.put("longest_transaction_s", round(g.longestTxn()));
            j.put("statements", g.statements());
            gs.add(j);
        }
        m.put("groups", gs);
        List<Object> cs = new ArrayList<>();
        long end = System.nanoTime();
        for (ConnectionRecord c : records) {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("id", c.id());
            j.put("application_name", c.applicationName());
            j.put("client", c.client());
            j.put("pid", c.pid() == 0 ? null : c.pid());
            j.put("user", c.user());
            j.put("database", c.database());
            j.put("ending", c.ending() == null ? null : c.ending().name().toLowerCase(Locale.ROOT));
            j.put("close_reason", c.closeReason());
            j.put("ended_in_transaction", c.endedInTransaction());
            j.put("lifetime_s", round(c.lifetimeSeconds(end)));
            j.put("statements", c.statements());
            j.put("longest_transaction_s", round(c.longestTxnSeconds()));
            j.put("longest_idle_in_transaction_s", round(c.longestIdleInTxnSeconds()));
            cs.add(j);
        }
        m.put("connections", cs);
        return m;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static String secs(double s) {
        return String.format(Locale.ROOT, "%.1fs", s);
    }

    private static String cut(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }
}
