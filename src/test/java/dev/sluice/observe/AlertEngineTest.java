package dev.sluice.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.AlertsConfig;
import dev.sluice.guard.BypassGroup;
import dev.sluice.guard.LeakDetector;
import dev.sluice.guard.ServerCapacity;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The alert engine on hand-made snapshots: when alerts fire and resolve, and what they say. */
class AlertEngineTest {
    private static final Instant T0 = Instant.parse("2025-02-27T13:15:00Z");
    private static final ServerCapacity CAPACITY = new ServerCapacity(30, 3, 0, 0, 1, 2); // budget 24

    /** Collects what the sinks get. */
    static final class Recorder implements AlertSink {
        final List<Alert> got = new ArrayList<>();

        @Override
        public void send(Alert alert) {
            got.add(alert);
        }
    }

    private static AlertsConfig config(Duration fireAfter, Duration resolveAfter) {
        return new AlertsConfig(0.80, 0.95, 10, 1, 20, fireAfter, resolveAfter, 0.05, null, "json", Set.of());
    }

    /** One auto budget of {@code budget} with {@code used} server connections, leased by analytics and api. */
    static ProxySnapshot budget(Instant at, int used, int budget, List<BypassGroup> bypass) {
        int bypassing = bypass.stream().mapToInt(BypassGroup::count).sum();
        ServerCapacity cap = new ServerCapacity(budget + 6 + bypassing, 3, 0, bypassing, 1, 2);
        var b = new ProxySnapshot.Budget("10.0.0.5:5432", "", "auto", used, cap.budget(), 1, cap, bypass, false, null,
                Map.of("analytics", Math.max(0, used - 3), "api", Math.min(2, used)),
                Map.of("analytics-job", Math.max(0, used - 3), "api-server", Math.min(2, used)));
        return snapshot(at, List.of(b), List.of(), List.of());
    }

    static ProxySnapshot snapshot(Instant at, List<ProxySnapshot.Budget> budgets,
            List<ProxySnapshot.WorkloadView> workloads, List<LeakDetector.Suspect> suspects) {
        return new ProxySnapshot(at, List.of(), Map.of(), budgets, workloads, List.of(), List.of(), suspects, List.of(),
                0, 100, List.of());
    }

    private static List<String> names(List<Alert> alerts) {
        return alerts.stream().map(a -> (a.firing() ? "+" : "-") + a.name()).toList();
    }

    @Test
    void aBudgetAlertFiresAfterFireAfterAndResolvesOnlyBelowTheMarginForResolveAfter() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(10), Duration.ofSeconds(30)));
        Recorder r = new Recorder();
        engine.addSink(r);
        // 20 of 24 = 83%: over 80%, pending
        for (int s = 0; s < 10; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), 20, 24, List.of()));
        }
        assertThat(r.got).isEmpty();
        assertThat(engine.firing()).isEmpty();
        engine.evaluate(budget(T0.plusSeconds(10), 20, 24, List.of()));
        assertThat(names(r.got)).containsExactly("+SluiceBudgetHigh");
        Alert fired = r.got.get(0);
        assertThat(fired.severity()).isEqualTo(Alert.Severity.WARNING);
        assertThat(fired.labels()).containsEntry("server", "10.0.0.5:5432");
        assertThat(fired.summary()).contains("Sluice holds 20 of its budget of 24 server connections on 10.0.0.5:5432")
                .contains("(83.3%; warn at 80%)").contains("budget 24 = max_connections 30");
        assertThat(fired.culprit()).contains("leased by workload analytics 17, api 2").contains("analytics-job 17");
        assertThat(fired.values()).containsEntry("used", 20).containsEntry("budget", 24);
        assertThat(fired.startsAt()).isEqualTo(T0.plusSeconds(10));
        assertThat(engine.firstFired("SluiceBudgetHigh")).contains(T0.plusSeconds(10));

        // 19 of 24 = 79%: below the threshold but not below 80% x 0.95 = 76%: stays firing, for as long as it lasts
        for (int s = 11; s < 100; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), 19, 24, List.of()));
        }
        assertThat(names(engine.firing())).containsExactly("+SluiceBudgetHigh");
        assertThat(engine.firing().get(0).values()).containsEntry("used", 19); // numbers refreshed, no new notification
        assertThat(r.got).hasSize(1);

        // 12 of 24 = 50%: clear, resolves 30 s later
        for (int s = 100; s < 130; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), 12, 24, List.of()));
        }
        assertThat(r.got).hasSize(1);
        engine.evaluate(budget(T0.plusSeconds(130), 12, 24, List.of()));
        assertThat(names(r.got)).containsExactly("+SluiceBudgetHigh", "-SluiceBudgetHigh");
        assertThat(r.got.get(1).endsAt()).isEqualTo(T0.plusSeconds(130));
        assertThat(engine.firing()).isEmpty();
        assertThat(engine.history()).hasSize(2);
    }

    @Test
    void aValueSwingingAroundTheThresholdNeitherFiresNorResolvesOverAndOver() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(5), Duration.ofSeconds(5)));
        Recorder r = new Recorder();
        engine.addSink(r);
        // 81% / 79% every other second: never 5 s in a row over the line
        for (int s = 0; s < 120; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), s % 2 == 0 ? 81 : 79, 100, List.of()));
        }
        assertThat(r.got).isEmpty();
        // over the line for good: fires once
        for (int s = 120; s < 130; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), 85, 100, List.of()));
        }
        assertThat(names(r.got)).containsExactly("+SluiceBudgetHigh");
        // swinging between 85% and 70%: never clear 5 s in a row, so it does not resolve and refire
        for (int s = 130; s < 250; s++) {
            engine.evaluate(budget(T0.plusSeconds(s), s % 3 == 0 ? 85 : 70, 100, List.of()));
        }
        assertThat(names(r.got)).containsExactly("+SluiceBudgetHigh");
    }

    @Test
    void criticalComesWithWarningAndIsListedFirst() {
        AlertEngine engine = new AlertEngine(config(Duration.ZERO, Duration.ofSeconds(5)));
        engine.evaluate(budget(T0, 24, 24, List.of()));
        assertThat(engine.firing()).extracting(Alert::name).containsExactly("SluiceBudgetCritical", "SluiceBudgetHigh");
        assertThat(engine.firing().get(0).severity()).isEqualTo(Alert.Severity.CRITICAL);
    }

    @Test
    void aBudgetShrunkByBypassingConnectionsNamesThemAndBypassHighFires() {
        AlertEngine engine = new AlertEngine(config(Duration.ZERO, Duration.ofSeconds(5)));
        var bypass = List.of(new BypassGroup("analytics-job", "app", "10.0.3.7", false, 40, T0));
        engine.evaluate(budget(T0, 10, 10, bypass));
        Alert critical = engine.firing().stream().filter(a -> a.name().equals("SluiceBudgetCritical")).findFirst()
                .orElseThrow();
        assertThat(critical.culprit()).contains("40 bypass Sluice: app=analytics-job user=app addr=10.0.3.7 (40)");
        Alert bypassHigh = engine.firing().stream().filter(a -> a.name().equals("SluiceBypassHigh")).findFirst()
                .orElseThrow();
        assertThat(bypassHigh.summary()).contains("40 connection(s) to 10.0.0.5:5432 bypass Sluice (warn above 10)");
    }

    @Test
    void withoutAnAutoBudgetTheAlertSaysWhatItMeasuresAgainst() {
        AlertEngine engine = new AlertEngine(config(Duration.ZERO, Duration.ofSeconds(5)));
        var b = new ProxySnapshot.Budget("127.0.0.1:5432", "appdb", "pool_size", 18, 20, 0, null, List.of(), false, null,
                Map.of("default", 18), Map.of("", 18));
        engine.evaluate(snapshot(T0, List.of(b), List.of(), List.of()));
        Alert a = engine.firing().get(0);
        assertThat(a.labels()).containsEntry("database", "appdb");
        assertThat(a.summary()).contains("database appdb on 127.0.0.1:5432: 18 of 20 server connections in use (90%")
                .contains("sum of its pools' sizes").contains("set max_db_connections = auto");
    }

    @Test
    void aLeakSuspectFiresAtOnceWithItsSourceAndClearsWhenItIsGone() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(10), Duration.ofSeconds(3)));
        var src = new LeakDetector.Source("analytics", "analytics-job", "app", "10.0.3.7");
        var suspect = new LeakDetector.Suspect(src, 37, 40, 25, 30, "SELECT count(*) FROM events", T0.toEpochMilli());
        engine.evaluate(snapshot(T0, List.of(), List.of(), List.of(suspect)));
        assertThat(engine.firing()).hasSize(1);
        Alert a = engine.firing().get(0);
        assertThat(a.name()).isEqualTo("SluiceLeakSuspect");
        assertThat(a.labels()).containsEntry("application_name", "analytics-job").containsEntry("address", "10.0.3.7")
                .containsEntry("workload", "analytics");
        assertThat(a.summary()).contains("37 idle client connections of 40 open, +30");
        assertThat(a.culprit()).contains("app=analytics-job").contains("SELECT count(*) FROM events");
        for (int s = 1; s <= 3; s++) { // first seen clear at +1 s: resolves 3 s after that
            engine.evaluate(snapshot(T0.plusSeconds(s), List.of(), List.of(), List.of()));
        }
        assertThat(engine.firing()).hasSize(1);
        engine.evaluate(snapshot(T0.plusSeconds(4), List.of(), List.of(), List.of()));
        assertThat(engine.firing()).isEmpty();
    }

    @Test
    void sheddingCountsRefusalsOfTheLastMinuteAndBreakerOpenIsCritical() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(10), Duration.ofSeconds(5)));
        engine.evaluate(snapshot(T0, List.of(), List.of(workload(0, "closed", 0, 0)), List.of()));
        assertThat(engine.firing()).isEmpty();
        engine.evaluate(snapshot(T0.plusSeconds(1), List.of(), List.of(workload(0, "open", 5, 3)), List.of()));
        assertThat(engine.firing()).extracting(Alert::name).containsExactly("SluiceBreakerOpen", "SluiceWorkloadShedding");
        Alert shed = engine.firing().get(1);
        assertThat(shed.summary()).contains("refused 8 request(s) in the last minute: 0 at max_clients (100), 0 at max_queue, "
                + "5 queue timeouts, 3 shed by its circuit breaker");
        // no new refusals: the minute slides past them, then the alert resolves 5 s later
        for (int s = 2; s <= 70; s++) {
            engine.evaluate(snapshot(T0.plusSeconds(s), List.of(), List.of(workload(0, "closed", 5, 3)), List.of()));
        }
        assertThat(engine.firing()).isEmpty();
    }

    @Test
    void aWorkloadWithClientsQueuedForFireAfterIsSaturated() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(3), Duration.ofSeconds(5)));
        for (int s = 0; s <= 3; s++) {
            engine.evaluate(snapshot(T0.plusSeconds(s), List.of(), List.of(workload(4, "none", 0, 0)), List.of()));
        }
        Alert a = engine.firing().get(0);
        assertThat(a.name()).isEqualTo("SluiceWorkloadSaturated");
        assertThat(a.summary()).isEqualTo("workload analytics: 4 client(s) waiting for a server connection; 10 in use of max 10");
        assertThat(a.culprit()).contains("servers held by application analytics-job 10");
    }

    @Test
    void anUnreachableServerFiresAfterFireAfterAndIsCritical() {
        AlertEngine engine = new AlertEngine(config(Duration.ofSeconds(2), Duration.ofSeconds(2)));
        var down = new PostgresProbe.Result("10.0.0.5:5432", List.of("appdb"), false, 2.0, "Connection refused", T0);
        for (int s = 0; s <= 2; s++) {
            engine.evaluate(new ProxySnapshot(T0.plusSeconds(s), List.of(), Map.of(), List.of(), List.of(), List.of(),
                    List.of(), List.of(), List.of(down), 0, 100, List.of()));
        }
        Alert a = engine.firing().get(0);
        assertThat(a.name()).isEqualTo("SluicePostgresUnreachable");
        assertThat(a.severity()).isEqualTo(Alert.Severity.CRITICAL);
        assertThat(a.summary()).isEqualTo("PostgreSQL at 10.0.0.5:5432 cannot be reached: Connection refused");
        assertThat(a.culprit()).isEqualTo("databases appdb");
    }

    @Test
    void aBurstOfFailedLoginsNamesWhoFailed() {
        AlertEngine engine = new AlertEngine(config(Duration.ZERO, Duration.ofSeconds(2)));
        List<TrafficMetrics.AuthFailure> failures = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            failures.add(new TrafficMetrics.AuthFailure(T0.toEpochMilli(), "app", "appdb", "10.0.9.9"));
        }
        engine.evaluate(new ProxySnapshot(T0, List.of(), Map.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                List.of(), 0, 100, failures));
        Alert a = engine.firing().get(0);
        assertThat(a.name()).isEqualTo("SluiceAuthFailures");
        assertThat(a.summary()).startsWith("25 client login(s) failed authentication in the last minute");
        assertThat(a.culprit()).isEqualTo("user app from 10.0.9.9 to appdb 25");
    }

    @Test
    void disabledAlertsStaySilent() {
        AlertsConfig d = config(Duration.ZERO, Duration.ZERO);
        AlertsConfig cfg = new AlertsConfig(d.budgetWarn(), AlertsConfig.OFF, d.bypassWarn(), d.shedWarn(),
                d.authFailuresWarn(), d.fireAfter(), d.resolveAfter(), d.resolveMargin(), null, "json",
                Set.of("SluiceBudgetHigh"));
        AlertEngine engine = new AlertEngine(cfg);
        engine.evaluate(budget(T0, 24, 24, List.of()));
        assertThat(engine.firing()).isEmpty();
    }

    @Test
    void webhookPayloadsSayWhatFiredAndSlackGetsOneLine() {
        Alert a = new Alert("SluiceBudgetHigh", Alert.Severity.WARNING, Map.of("server", "10.0.0.5:5432"),
                "Sluice holds 20 of 24", "leased by workload analytics 17", Map.of("used", 20), T0, null);
        String json = Json.write(WebhookSink.payload(a, "sluice@db1:6432"));
        assertThat(json).contains("\"status\":\"firing\"").contains("\"alertname\":\"SluiceBudgetHigh\"")
                .contains("\"severity\":\"warning\"").contains("\"labels\":{\"server\":\"10.0.0.5:5432\"}")
                .contains("\"startsAt\":\"2025-02-27T13:15:00Z\"").contains("\"endsAt\":null")
                .contains("\"instance\":\"sluice@db1:6432\"");
        assertThat(WebhookSink.slackText(a)).isEqualTo(":warning: [FIRING] SluiceBudgetHigh (warning) "
                + "server=10.0.0.5:5432: Sluice holds 20 of 24; culprit: leased by workload analytics 17");
        assertThat(WebhookSink.slackText(a.resolved(T0.plusSeconds(60)))).startsWith(":white_check_mark: [RESOLVED]");
        assertThat(URI.create("http://x").getHost()).isEqualTo("x");
    }

    private static ProxySnapshot.WorkloadView workload(int queued, String breaker, long queueTimeouts, long shed) {
        return new ProxySnapshot.WorkloadView("analytics", 50, 100, 10, 10, 0, queued, breaker, 0, 0, queueTimeouts, shed,
                Map.of("analytics-job", 50), Map.of("analytics-job", 10));
    }
}
