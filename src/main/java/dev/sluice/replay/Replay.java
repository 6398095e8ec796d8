package dev.sluice.replay;

import dev.sluice.config.SluiceConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `sluice replay`: the incident's timeline against one embedded PostgreSQL, once per mode (direct,
 * sluice, pgbouncer), same seed and load; then the side-by-side report and the checks of what Sluice
 * is expected to do. A mode that cannot run (no pgbouncer binary) is reported as skipped, with why.
 */
public final class Replay {
    /** An expectation checked after the run; {@code aboutSluice} ones decide the exit status. */
    public record Check(String mode, String expectation, boolean passed, String evidence, boolean aboutSluice) {
        Map<String, Object> toJson() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("mode", mode);
            j.put("expectation", expectation);
            j.put("passed", passed);
            j.put("evidence", evidence);
            j.put("decides_exit_status", aboutSluice);
            return j;
        }
    }

    /** The outcome: per-mode results (absent = skipped, with the reason in {@code skipped}) and the checks. */
    public record Outcome(Scenario scenario, int maxConnections, int ordinarySlots, Map<String, ModeResult> modes,
                          Map<String, String> skipped, List<Check> checks) {
        public boolean sluiceMetExpectations() {
            return checks.stream().filter(Check::aboutSluice).allMatch(Check::passed);
        }
    }

    private final Scenario scenario;
    private final PrintStream err;
    private final boolean progress;

    public Replay(Scenario scenario, PrintStream err, boolean progress) {
        this.scenario = scenario;
        this.err = err;
        this.progress = progress;
    }

    public Outcome run() throws Exception {
        Progress p = new Progress(err, progress);
        Path work = Files.createTempDirectory("sluice-replay");
        Map<String, ModeResult> results = new LinkedHashMap<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        p.say("sluice replay: starting an embedded PostgreSQL (max_connections=" + scenario.maxConnections() + ")...");
        int maxConnections;
        int ordinary;
        try (ReplayDatabase db = ReplayDatabase.start(scenario.maxConnections())) {
            maxConnections = db.maxConnections();
            ordinary = db.ordinarySlots();
            p.say(String.format(java.util.Locale.ROOT, "sluice replay: %s, %s timeline, job deployed at %s%s, %s leak, API %s req/s (%s)",
                    scenario.name(), Durations.format(scenario.duration()), Durations.format(scenario.deployAt()),
                    scenario.fixAt() == null ? "" : ", fixed at " + Durations.format(scenario.fixAt()),
                    scenario.leak(), trim(scenario.apiRate()), scenario.apiPool().equals("hikari")
                            ? "HikariCP pool of " + scenario.apiPoolSize() : "a new connection per request"));
            for (String mode : scenario.modes()) {
                db.reset(scenario.accounts());
                Target target;
                try {
                    target = switch (mode) {
                        case "direct" -> new Target.Direct(db.port(), maxConnections);
                        case "sluice" -> new SluiceTarget(scenario, db.port(), work);
                        default -> {
                            if (PgBouncerTarget.binary() == null) {
                                skipped.put(mode, "pgbouncer is not installed (apt-get install pgbouncer)");
                                yield null;
                            }
                            SluiceConfig cfg = SluiceTarget.load(scenario, db.port(), work);
                            yield new PgBouncerTarget(cfg.settings(), db.port(), work);
                        }
                    };
                } catch (Exception e) {
                    skipped.put(mode, "could not start: " + e.getMessage());
                    p.say("sluice replay: " + mode + ": could not start: " + e.getMessage());
                    continue;
                }
                if (target == null) {
                    p.say("sluice replay: " + mode + ": skipped: " + skipped.get(mode));
                    continue;
                }
                try (Target t = target) {
                    results.put(mode, new ModeRun(scenario, db, t, p).run());
                }
                Thread.sleep(500); // let the last connections of this mode go before the next reset
            }
        }
        List<Check> checks = checks(results, ordinary);
        return new Outcome(scenario, maxConnections, ordinary, results, skipped, checks);
    }

    private List<Check> checks(Map<String, ModeResult> m, int ordinary) {
        List<Check> c = new ArrayList<>();
        for (ModeResult r : m.values()) {
            // Before the deploy nothing is wrong yet: if the API already struggles, this machine cannot carry the
            // scenario's load and the comparison says more about the machine than about the leak.
            boolean healthy = r.baselineAvailability != null && r.baselineAvailability >= 0.99
                    && r.baselineP99Ms != null && r.baselineP99Ms < 1000;
            c.add(new Check(r.mode, "the API is healthy before the deploy (≥ 99% answered, p99 < 1s)", healthy,
                    r.baselineAvailability == null ? "no full second before the deploy"
                            : "before the deploy: " + pct(r.baselineAvailability) + " answered, p99 "
                            + ReplayReport.ms(r.baselineP99Ms == null ? 0 : r.baselineP99Ms)
                            + (healthy ? "" : "; this machine could not carry the load before the leak began,"
                            + " so later numbers mix overload with the incident (lower api_rate)"), false));
        }
        ModeResult direct = m.get("direct");
        ModeResult sluice = m.get("sluice");
        ModeResult pgb = m.get("pgbouncer");
        if (direct != null) {
            boolean filled = direct.dbFullS != null;
            boolean most = filled && direct.availabilityAfterFull != null && direct.availabilityAfterFull < 0.5;
            c.add(new Check("direct", "the incident reproduces: once the job fills the database, most API requests fail",
                    most, filled ? String.format(java.util.Locale.ROOT, "the database's %d ordinary slots were full %.1fs after the deploy;"
                            + " API availability from then until the fix: %s", ordinary, direct.dbFullS,
                            pct(direct.availabilityAfterFull)) : "the database never filled (peak "
                            + direct.peakDbConnections + " of " + ordinary + " connections): this scenario does not"
                            + " reproduce the incident", false));
        }
        if (sluice != null) {
            c.add(new Check("sluice", "API availability stays at or above 99.9%", sluice.availability() >= 0.999,
                    String.format(java.util.Locale.ROOT, "%s of %d requests answered (%d errors: %d HTTP 500, %d timeouts, %d other)",
                            pct(sluice.availability()), sluice.apiRequests, sluice.apiErrors(), sluice.api5xx,
                            sluice.apiTimeouts, sluice.apiOtherErrors), true));
            boolean contained = sluice.dbFullS == null;
            c.add(new Check("sluice", "the job is contained: the database never fills", contained,
                    "peak " + sluice.peakDbConnections + " of " + ordinary + " ordinary connection slots; the job"
                            + " held at most " + sluice.jobPeakHeld + " connections, " + sluice.jobFailures
                            + " of its " + sluice.jobTasks + " tasks were refused or failed", true));
            c.add(new Check("sluice", "the job is refused at its own limits, with an error naming its workload",
                    sluice.firstRefusalS != null, sluice.firstRefusalS == null ? "Sluice never refused the job"
                    : String.format(java.util.Locale.ROOT, "first refusal of the job %.1fs after the deploy (%s)",
                    sluice.firstRefusalS, sluice.firstRefusalDetail), true));
            c.add(new Check("sluice", "an alert fires after the deploy", sluice.firstAlertS != null,
                    sluice.firstAlertS == null ? "Sluice's alert engine fired nothing during the replay"
                    : String.format(java.util.Locale.ROOT, "first alert %.1fs after the deploy: %s", sluice.firstAlertS,
                    sluice.firstAlertDetail), true));
            c.add(new Check("sluice", "the leak is attributed to the job (leak detector names its source)",
                    sluice.leakAttributedS != null, sluice.leakAttributedS == null ? sluice.leakAttribution
                    : String.format(java.util.Locale.ROOT, "named %.1fs after the deploy: %s", sluice.leakAttributedS, sluice.leakAttribution),
                    true));
        }
        if (pgb != null) {
            boolean hurt = pgb.incidentAvailability != null && pgb.incidentAvailability < 0.999;
            c.add(new Check("pgbouncer", "plain pooling is not enough: the API suffers through PgBouncer too", hurt,
                    "API availability between deploy and fix: " + pct(pgb.incidentAvailability) + " ("
                            + pgb.apiErrors() + " errors)", false));
        }
        return c;
    }

    static String pct(Double v) {
        if (v == null) {
            return "n/a";
        }
        return v >= 0.999 && v < 1 ? String.format(java.util.Locale.ROOT, "%.2f%%", v * 100) : String.format(java.util.Locale.ROOT, "%.1f%%", v * 100);
    }

    static String trim(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
