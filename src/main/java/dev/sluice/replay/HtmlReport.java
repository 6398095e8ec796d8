package dev.sluice.replay;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The replay as one self-contained HTML page: the side-by-side table, the checks, and per mode three
 * time-series charts drawn as inline SVG (API answers and errors, p99 latency, database connections),
 * with the deploy, fix, first alert and leak attribution marked. No scripts, no external resources.
 */
public final class HtmlReport {
    private static final int W = 820;
    private static final int H = 170;
    private static final int L = 48;
    private static final int R = 12;
    private static final int T = 14;
    private static final int B = 24;

    private HtmlReport() {}

    public static String render(Replay.Outcome o) {
        StringBuilder sb = new StringBuilder();
        Scenario s = o.scenario();
        sb.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sluice replay: ")
                .append(esc(s.name())).append("</title><style>")
                .append("body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:900px;color:#222}")
                .append("table{border-collapse:collapse;margin:12px 0}td,th{padding:3px 10px;border-bottom:1px solid #ddd;")
                .append("text-align:right}td:first-child,th:first-child{text-align:left}")
                .append(".ok{color:#1a7f37}.fail{color:#cf222e;font-weight:bold}.no{color:#9a6700}")
                .append("svg{display:block;margin:4px 0 14px}h2{margin-top:32px;border-top:2px solid #eee;padding-top:12px}")
                .append("small,.note{color:#666}code{background:#f4f4f4;padding:1px 4px}")
                .append("</style></head><body>");
        sb.append("<h1>sluice replay: ").append(esc(s.name())).append("</h1>");
        sb.append("<p>The 2025-02-27 incident, compressed: a ").append(Durations.format(s.duration()))
                .append(" timeline; the analytics job (one new connection per task, never closed").append(
                        s.leak().equals("transaction") ? ", transaction left open" : "").append(", ")
                .append(Replay.trim(s.jobRate())).append(" tasks/s) is deployed at ")
                .append(Durations.format(s.deployAt()))
                .append(s.fixAt() == null ? " and never fixed" : " and replaced by the fixed job at " + Durations.format(s.fixAt()))
                .append(". The API gets ").append(Replay.trim(s.apiRate())).append(" requests/s (open loop) and ")
                .append(s.apiPool().equals("hikari") ? "borrows connections from a HikariCP pool of " + s.apiPoolSize()
                        : "opens a new connection per request")
                .append(". PostgreSQL: max_connections=").append(o.maxConnections()).append(" (")
                .append(o.ordinarySlots()).append(" for the application role).</p>");
        // summary table
        sb.append("<table><tr><th></th>");
        for (String m : o.modes().keySet()) {
            sb.append("<th>").append(esc(m)).append("</th>");
        }
        sb.append("</tr>");
        for (List<String> row : ReplayReport.rows(o)) {
            sb.append("<tr>");
            for (String cell : row) {
                sb.append("<td>").append(esc(cell.strip())).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</table>");
        for (Map.Entry<String, String> e : o.skipped().entrySet()) {
            sb.append("<p class=\"note\">").append(esc(e.getKey())).append(": skipped: ").append(esc(e.getValue())).append("</p>");
        }
        sb.append("<h3>Checks</h3><ul>");
        for (Replay.Check c : o.checks()) {
            String cls = c.passed() ? "ok" : c.aboutSluice() ? "fail" : "no";
            sb.append("<li><span class=\"").append(cls).append("\">").append(c.passed() ? "✔" : "✘").append("</span> <b>")
                    .append(esc(c.mode())).append("</b>: ").append(esc(c.expectation())).append("<br><small>")
                    .append(esc(c.evidence())).append("</small></li>");
        }
        sb.append("</ul>");
        for (ModeResult r : o.modes().values()) {
            sb.append("<h2>").append(esc(r.mode)).append("</h2><p class=\"note\">").append(esc(r.description)).append("</p>");
            List<double[]> marks = marks(s, r);
            sb.append("<p>API answers per second (green) and errors (red)</p>");
            sb.append(apiChart(r, marks));
            sb.append("<p>API latency p99 per second (log scale, ms; measured from when the request was due)</p>");
            sb.append(latencyChart(r, marks));
            sb.append("<p>PostgreSQL connections of the application (black), connections the job holds (orange);"
                    + " dashed: the ordinary slots (max_connections minus superuser-reserved)</p>");
            sb.append(dbChart(r, marks, o.ordinarySlots()));
            sb.append("<p class=\"note\">Markers: <b>D</b> job deployed, <b>F</b> fixed job deployed, <b>A</b> first"
                    + " alert, <b>L</b> leak attributed.");
            if (r.firstAlertS != null) {
                sb.append(" First alert: ").append(esc(r.firstAlertMeaning)).append(".");
            }
            if (r.leakAttributedS != null) {
                sb.append(" Attribution: <code>").append(esc(r.leakAttribution)).append("</code>");
            }
            for (String n : r.notes) {
                sb.append(" ").append(esc(n)).append(".");
            }
            sb.append("</p>");
        }
        sb.append("<p class=\"note\">Generated by <code>sluice replay</code>. The same numbers, with every second, are in the JSON report.</p>");
        sb.append("</body></html>\n");
        return sb.toString();
    }

    /** {x seconds, kind} with kind 0 deploy, 1 fix, 2 alert, 3 attribution. */
    private static List<double[]> marks(Scenario s, ModeResult r) {
        List<double[]> m = new ArrayList<>();
        double d = s.deployAt().toMillis() / 1000.0;
        m.add(new double[] {d, 0});
        if (s.fixAt() != null) {
            m.add(new double[] {s.fixAt().toMillis() / 1000.0, 1});
        }
        if (r.firstAlertS != null) {
            m.add(new double[] {d + r.firstAlertS, 2});
        }
        if (r.leakAttributedS != null) {
            m.add(new double[] {d + r.leakAttributedS, 3});
        }
        return m;
    }

    private static String apiChart(ModeResult r, List<double[]> marks) {
        int n = r.series.size();
        double max = Math.max(1, r.series.stream().mapToInt(ModeResult.Second::apiRequests).max().orElse(1));
        StringBuilder sb = frame(n, marks, max, false);
        double bw = (double) (W - L - R) / n;
        for (ModeResult.Second s : r.series) {
            double x = L + (s.t() - 1) * bw;
            double hOk = s.apiOk() / max * (H - T - B);
            double hErr = s.apiErrors() / max * (H - T - B);
            rect(sb, x, H - B - hOk, bw * 0.9, hOk, "#2da44e");
            rect(sb, x, H - B - hOk - hErr, bw * 0.9, hErr, "#cf222e");
        }
        return sb.append("</svg>").toString();
    }

    private static String latencyChart(ModeResult r, List<double[]> marks) {
        int n = r.series.size();
        double max = Math.max(10, r.series.stream().filter(s -> s.p99Ms() != null).mapToDouble(ModeResult.Second::p99Ms)
                .max().orElse(10));
        StringBuilder sb = frame(n, marks, max, true);
        StringBuilder path = new StringBuilder();
        for (ModeResult.Second s : r.series) {
            if (s.p99Ms() == null) {
                continue;
            }
            double x = L + (s.t() - 0.5) * (W - L - R) / n;
            double y = H - B - Math.log10(Math.max(1, s.p99Ms())) / Math.log10(max) * (H - T - B);
            path.append(path.length() == 0 ? "M" : "L").append(f(x)).append(' ').append(f(y));
        }
        sb.append("<path d=\"").append(path).append("\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.6\"/>");
        return sb.append("</svg>").toString();
    }

    private static String dbChart(ModeResult r, List<double[]> marks, int slots) {
        int n = r.series.size();
        double max = Math.max(slots + 5, r.series.stream().mapToInt(ModeResult.Second::dbConnections).max().orElse(0));
        StringBuilder sb = frame(n, marks, max, false);
        double y = H - B - slots / max * (H - T - B);
        sb.append("<line x1=\"").append(L).append("\" x2=\"").append(W - R).append("\" y1=\"").append(f(y)).append("\" y2=\"")
                .append(f(y)).append("\" stroke=\"#cf222e\" stroke-dasharray=\"5 4\"/>");
        sb.append(line(r, max, s -> (double) s.dbConnections(), "#222"));
        sb.append(line(r, max, s -> (double) s.jobConnectionsHeld(), "#e16f24"));
        return sb.append("</svg>").toString();
    }

    private static String line(ModeResult r, double max, java.util.function.Function<ModeResult.Second, Double> v, String color) {
        int n = r.series.size();
        StringBuilder path = new StringBuilder();
        for (ModeResult.Second s : r.series) {
            double x = L + s.t() * (double) (W - L - R) / n;
            double y = H - B - v.apply(s) / max * (H - T - B);
            path.append(path.length() == 0 ? "M" + f(L) + " " + f(y) + "L" : "L").append(f(x)).append(' ').append(f(y));
        }
        return "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.6\"/>";
    }

    private static StringBuilder frame(int n, List<double[]> marks, double max, boolean log) {
        StringBuilder sb = new StringBuilder();
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\" font-size=\"10\">");
        sb.append("<rect x=\"").append(L).append("\" y=\"").append(T).append("\" width=\"").append(W - L - R)
                .append("\" height=\"").append(H - T - B).append("\" fill=\"#fafafa\" stroke=\"#ccc\"/>");
        // y axis: 0 / middle / max (log: 1, sqrt, max)
        double[] ticks = log ? new double[] {1, Math.sqrt(max), max} : new double[] {0, max / 2, max};
        for (double t : ticks) {
            double y = log ? H - B - Math.log10(Math.max(1, t)) / Math.log10(max) * (H - T - B) : H - B - t / max * (H - T - B);
            sb.append("<text x=\"").append(L - 4).append("\" y=\"").append(f(y + 3)).append("\" text-anchor=\"end\">")
                    .append(t >= 100 ? String.format(Locale.ROOT, "%.0f", t) : String.format(Locale.ROOT, "%.3g", t))
                    .append("</text>");
        }
        int step = n <= 30 ? 5 : n <= 120 ? 10 : 30;
        for (int s = 0; s <= n; s += step) {
            double x = L + s * (double) (W - L - R) / n;
            sb.append("<text x=\"").append(f(x)).append("\" y=\"").append(H - 8).append("\" text-anchor=\"middle\">")
                    .append(s).append("s</text>");
        }
        String[] labels = {"D", "F", "A", "L"};
        String[] colors = {"#6e7781", "#1a7f37", "#bf8700", "#8250df"};
        for (double[] m : marks) {
            double x = L + m[0] * (W - L - R) / n;
            int k = (int) m[1];
            sb.append("<line x1=\"").append(f(x)).append("\" x2=\"").append(f(x)).append("\" y1=\"").append(T)
                    .append("\" y2=\"").append(H - B).append("\" stroke=\"").append(colors[k])
                    .append("\" stroke-dasharray=\"3 3\"/><text x=\"").append(f(x + 2 + k * 0)).append("\" y=\"")
                    .append(T + 10 + k * 10).append("\" fill=\"").append(colors[k]).append("\">").append(labels[k]).append("</text>");
        }
        return sb;
    }

    private static void rect(StringBuilder sb, double x, double y, double w, double h, String color) {
        if (h <= 0) {
            return;
        }
        sb.append("<rect x=\"").append(f(x)).append("\" y=\"").append(f(y)).append("\" width=\"").append(f(w))
                .append("\" height=\"").append(f(h)).append("\" fill=\"").append(color).append("\"/>");
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
