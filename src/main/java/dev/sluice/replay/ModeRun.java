package dev.sluice.replay;

import dev.sluice.guard.LeakDetector;
import dev.sluice.guard.Workload;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Runs the scenario's timeline once against one target: the API under load from the start, the job
 * deployed and (optionally) fixed on schedule, and a sample every second of the API, the database, the
 * job and, in Sluice mode, what Sluice saw.
 */
final class ModeRun {
    private final Scenario scenario;
    private final ReplayDatabase db;
    private final Target target;
    private final Progress progress;
    private final int ordinarySlots;
    static final java.time.Duration WARM_UP = java.time.Duration.ofSeconds(5);

    ModeRun(Scenario scenario, ReplayDatabase db, Target target, Progress progress) throws SQLException {
        this.scenario = scenario;
        this.db = db;
        this.target = target;
        this.progress = progress;
        this.ordinarySlots = db.ordinarySlots();
    }

    ModeResult run() throws Exception {
        ModeResult r = new ModeResult(target.mode(), target.describe());
        SluiceTarget sluice = target instanceof SluiceTarget s ? s : null;
        Workload jobWorkload = sluice == null ? null : sluice.jobWorkload();
        double deployS = scenario.deployAt().toMillis() / 1000.0;
        Double fixS = scenario.fixAt() == null ? null : scenario.fixAt().toMillis() / 1000.0;
        int n = (int) Math.ceil(scenario.duration().toMillis() / 1000.0);
        long[] jobTasks = new long[n + 1];
        long[] jobFailures = new long[n + 1];
        int[] held = new int[n + 1];
        int[] dbTotal = new int[n + 1];
        Map<Integer, Map<String, Integer>> byApp = new TreeMap<>();
        Integer[] jobClients = new Integer[n + 1];
        Long[] refusals = new Long[n + 1];
        Boolean[] suspect = new Boolean[n + 1];

        try (ApiService api = new ApiService(scenario, target.jdbcUrl());
             AnalyticsJob job = new AnalyticsJob(target.jdbcUrl(), scenario.leak().equals("transaction"));
             LoadGenerator load = new LoadGenerator(scenario, api.port())) {
            warmUp(api);
            long t0 = System.nanoTime() + 200_000_000L; // everything starts together, a moment from now
            java.time.Instant t0Wall = java.time.Instant.now().plusMillis(200);
            load.start(t0);
            job.deploy(scenario.deployAt().toMillis() + 200, scenario.jobRate());
            if (scenario.fixAt() != null) {
                job.fixAfter(scenario.fixAt().toMillis() + 200);
            }
            // Sluice's signals are polled five times a second, the rest once a second.
            long base = refusalsOf(jobWorkload);
            for (int tick = 1; tick <= n * 5; tick++) {
                sleepUntil(t0 + tick * 200_000_000L);
                double now = tick / 5.0;
                if (sluice != null) {
                    if (r.firstRefusalS == null && refusalsOf(jobWorkload) > base && now >= deployS) {
                        r.firstRefusalS = ModeResult.round(now - deployS, 1);
                        r.firstRefusalDetail = refusalDetail(jobWorkload);
                    }
                    collectAlerts(r, sluice, t0Wall, deployS);
                    if (r.leakAttributedS == null) {
                        for (LeakDetector.Suspect s : sluice.sluice().leakDetector().suspects()) {
                            if (s.source().workload().equals(jobWorkload.name())
                                    || s.source().applicationName().startsWith("analytics")) {
                                r.leakAttributedS = ModeResult.round(Math.max(0, now - deployS), 1);
                                r.leakAttribution = s.describe();
                                break;
                            }
                        }
                    }
                }
                if (tick % 5 != 0) {
                    continue;
                }
                int k = tick / 5;
                jobTasks[k] = job.tasksStarted();
                jobFailures[k] = job.failures();
                held[k] = job.leakedOpen();
                Map<String, Integer> apps = db.connectionsByApplication();
                byApp.put(k, apps);
                dbTotal[k] = apps.values().stream().mapToInt(Integer::intValue).sum();
                if (sluice != null) {
                    jobClients[k] = jobWorkload.clients();
                    refusals[k] = refusalsOf(jobWorkload) - base;
                    suspect[k] = sluice.sluice().leakDetector().suspects().stream()
                            .anyMatch(s -> s.source().workload().equals(jobWorkload.name()));
                }
                LoadGenerator.Second sec = load.second(k - 1);
                progress.update(target.mode(), k, n, status(sec, dbTotal[k], job));
            }
            load.drain(scenario.apiTimeout().plusSeconds(1));
            if (load.inFlight() > 0) {
                r.notes.add(load.inFlight() + " API requests were still unanswered after the timeout and the"
                        + " drain; they are counted as timeouts");
            }
            r.jobLastError = job.lastError();
            Histogram all = new Histogram(120_000_000L, 2);
            Histogram before = new Histogram(120_000_000L, 2);
            for (int k = 1; k <= n; k++) {
                LoadGenerator.Second s = load.second(k - 1);
                Double p50;
                Double p99;
                int sent;
                int ok;
                int e5;
                int to;
                int other;
                synchronized (s) {
                    sent = s.sent;
                    ok = s.ok;
                    e5 = s.http5xx;
                    int answered = s.ok + s.http5xx + s.timeouts + s.otherErrors;
                    to = s.timeouts + (sent - answered); // unanswered = timed out
                    other = s.otherErrors;
                    p50 = s.latencyMicros.getTotalCount() == 0 ? null : s.latencyMicros.getValueAtPercentile(50) / 1000.0;
                    p99 = s.latencyMicros.getTotalCount() == 0 ? null : s.latencyMicros.getValueAtPercentile(99) / 1000.0;
                    all.add(s.latencyMicros);
                    if (k <= deployS) {
                        before.add(s.latencyMicros);
                    }
                }
                r.series.add(new ModeResult.Second(k, sent, ok, e5, to, other, p50, p99, dbTotal[k],
                        byApp.getOrDefault(k, Map.of()), jobTasks[k] - jobTasks[k - 1],
                        jobFailures[k] - jobFailures[k - 1], held[k], jobClients[k], refusals[k], suspect[k]));
            }
            summarize(r, all, deployS, fixS);
            r.baselineP99Ms = before.getTotalCount() == 0 ? null : before.getValueAtPercentile(99) / 1000.0;
        }
        if (sluice != null) {
            r.firstAlertMeaning = "seconds from the job's deploy to the first alert Sluice's alert engine fired"
                    + " (any rule: budget, workload shedding, breaker, leak suspect; logged, sent to the webhook,"
                    + " shown by SHOW ALERTS); first_refusal_s is the first refusal of workload \""
                    + jobWorkload.name() + "\" (an error to the job, SQLSTATE 53300/57P03)";
        } else {
            r.firstAlertMeaning = target.mode().equals("direct")
                    ? "nothing between the job and PostgreSQL raises an alert"
                    : "PgBouncer has no alerts; its log shows client refusals that do not name the job";
            r.leakAttribution = "not available in this mode";
        }
        if (sluice != null && r.leakAttributedS == null) {
            r.leakAttribution = "never: Sluice's leak detector did not name the job during the replay";
        }
        return r;
    }

    /**
     * A few seconds of the same load before the timeline starts, not measured: the JIT compiles the HTTP
     * and JDBC paths and the pools fill, in every mode alike, so the first seconds of the timeline show the
     * system's steady state rather than the JVM starting up.
     */
    private void warmUp(ApiService api) throws InterruptedException {
        Scenario w = scenario.withDuration(WARM_UP).withSeed(scenario.seed() + 1);
        try (LoadGenerator load = new LoadGenerator(w, api.port())) {
            load.start(System.nanoTime());
            int n = (int) WARM_UP.toSeconds();
            for (int i = 1; i <= n; i++) {
                Thread.sleep(1000);
                progress.update(target.mode() + "~", i, n, "warming up (not measured)");
            }
            load.drain(scenario.apiTimeout().plusSeconds(1));
        }
    }

    /** Alerts the engine fired since the deploy, in order, as seconds after the deploy. */
    private static void collectAlerts(ModeResult r, SluiceTarget sluice, java.time.Instant t0Wall, double deployS) {
        for (dev.sluice.observe.AlertEngine.Event e : sluice.sluice().alerts().history()) {
            if (!e.alert().firing()) {
                continue;
            }
            double at = java.time.Duration.between(t0Wall, e.at()).toMillis() / 1000.0 - deployS;
            String key = e.alert().key();
            if (at < 0 || r.alerts.stream().anyMatch(a -> a.get("key").equals(key) && a.get("at_s").equals(
                    ModeResult.round(at, 1)))) {
                continue;
            }
            Map<String, Object> a = new java.util.LinkedHashMap<>();
            a.put("at_s", ModeResult.round(at, 1));
            a.put("name", e.alert().name());
            a.put("severity", e.alert().severity().label());
            a.put("key", key);
            a.put("summary", e.alert().summary());
            a.put("culprit", e.alert().culprit());
            r.alerts.add(a);
            if (r.firstAlertS == null || at < r.firstAlertS) {
                r.firstAlertS = ModeResult.round(at, 1);
                r.firstAlertDetail = e.alert().describe();
            }
        }
    }

    private static long refusalsOf(Workload w) {
        return w == null ? 0 : w.refusedMaxClients() + w.refusedQueueTimeout() + w.shedByBreaker();
    }

    private static String refusalDetail(Workload w) {
        return String.format(Locale.ROOT, "workload \"%s\": %d refused at max_clients, %d queue timeouts, %d shed by"
                + " the breaker", w.name(), w.refusedMaxClients(), w.refusedQueueTimeout(), w.shedByBreaker());
    }

    private String status(LoadGenerator.Second s, int db, AnalyticsJob job) {
        synchronized (s) {
            int answered = s.ok + s.errors();
            String ok = answered == 0 ? "  -  " : String.format(Locale.ROOT, "%5.1f%%", 100.0 * s.ok / answered);
            return String.format(Locale.ROOT, "api ok %s  db %3d/%d  job held %3d failed %4d", ok, db,
                    ordinarySlots, job.leakedOpen(), job.failures());
        }
    }

    private void summarize(ModeResult r, Histogram all, double deployS, Double fixS) {
        double endS = scenario.duration().toMillis() / 1000.0;
        double incidentEnd = fixS == null ? endS : fixS;
        long incidentReq = 0;
        long incidentOk = 0;
        long baseReq = 0;
        long baseOk = 0;
        for (ModeResult.Second s : r.series) {
            r.apiRequests += s.apiRequests();
            r.apiOk += s.apiOk();
            r.api5xx += s.api5xx();
            r.apiTimeouts += s.apiTimeouts();
            r.apiOtherErrors += s.apiOtherErrors();
            r.peakDbConnections = Math.max(r.peakDbConnections, s.dbConnections());
            r.jobPeakHeld = Math.max(r.jobPeakHeld, s.jobConnectionsHeld());
            r.jobTasks += s.jobTasks();
            r.jobFailures += s.jobFailures();
            double start = s.t() - 1;
            if (s.t() <= deployS) {
                baseReq += s.apiRequests();
                baseOk += s.apiOk();
            }
            if (start >= deployS && start < incidentEnd) {
                incidentReq += s.apiRequests();
                incidentOk += s.apiOk();
            }
            if (r.dbFullS == null && s.dbConnections() >= ordinarySlots) {
                r.dbFullS = ModeResult.round(s.t() - deployS, 1);
            }
        }
        r.incidentAvailability = incidentReq == 0 ? null : (double) incidentOk / incidentReq;
        r.baselineAvailability = baseReq == 0 ? null : (double) baseOk / baseReq;
        if (r.dbFullS != null) {
            long req = 0;
            long ok = 0;
            for (ModeResult.Second s : r.series) {
                double start = s.t() - 1;
                if (start >= r.dbFullS + deployS && start < incidentEnd) {
                    req += s.apiRequests();
                    ok += s.apiOk();
                }
            }
            r.availabilityAfterFull = req == 0 ? null : (double) ok / req;
        }
        boolean everDown = r.series.stream().anyMatch(x -> x.t() - 1 >= deployS && x.apiRequests() > 0
                && x.apiOk() < 0.99 * x.apiRequests());
        r.apiWentDown = everDown;
        if (fixS != null && everDown) {
            // recovered: the first second after the fix from which every second answers ≥ 99% of its requests
            for (ModeResult.Second s : r.series) {
                if (s.t() - 1 >= fixS && r.series.stream().filter(x -> x.t() >= s.t())
                        .allMatch(x -> x.apiRequests() == 0 || x.apiOk() >= 0.99 * x.apiRequests())) {
                    r.recoveredS = ModeResult.round(s.t() - 1 - deployS, 1);
                    break;
                }
            }
        }
        r.p50Ms = all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(50) / 1000.0;
        r.p99Ms = all.getTotalCount() == 0 ? 0 : all.getValueAtPercentile(99) / 1000.0;
        r.maxMs = all.getTotalCount() == 0 ? 0 : all.getMaxValue() / 1000.0;
    }

    private static void sleepUntil(long nanos) throws InterruptedException {
        long d = nanos - System.nanoTime();
        if (d > 0) {
            Thread.sleep(d / 1_000_000, (int) (d % 1_000_000));
        }
    }
}
