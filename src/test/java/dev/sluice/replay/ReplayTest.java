package dev.sluice.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shortened replay of the incident (20 s per mode, deploy and fix in their places), read back from its
 * JSON: every number must point the way the postmortem and Sluice's design say. PgBouncer runs when it
 * is installed. These are directions, not tuned thresholds: a number that comes out different fails
 * here with the run's own table in the message.
 */
class ReplayTest {
    @TempDir
    Path tmp;

    private record Run(Map<String, Object> json, String table, String html) {
        @SuppressWarnings("unchecked")
        Map<String, Object> mode(String m) {
            return (Map<String, Object>) ((Map<String, Object>) json.get("modes")).get(m);
        }
    }

    private Run replay(Scenario s) throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Replay.Outcome o = new Replay(s, new PrintStream(err, true, StandardCharsets.UTF_8), false).run();
        Path json = tmp.resolve("r.json");
        Files.writeString(json, Json.write(ReplayReport.json(o)));
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(json));
        return new Run(m, ReplayReport.table(o), HtmlReport.render(o));
    }

    /**
     * The incident in 20 s: deploy at 2 s, a job fast enough (15 tasks/s) to fill the database within
     * the run, and no fix, so that "after the database was full" lasts long enough to be measured on a
     * busy 2-core machine (an API backlog of a few seconds must not be able to carry requests past a fix).
     */
    private static Scenario shortened(String leak, List<String> modes) {
        return Scenario.parse("test-" + leak, Map.of("duration", "20s", "deploy_at", "2s", "fix_at", "never",
                "job_rate", "15", "leak", leak, "modes", String.join(",", modes)), null);
    }

    private static double d(Map<String, Object> m, String k) {
        Object v = m.get(k);
        assertThat(v).as(k).isNotNull();
        return ((Number) v).doubleValue();
    }

    @Test
    void idleLeakDirectFailsSluiceHoldsPgBouncerIsRefusedToo() throws Exception {
        boolean pgbouncer = PgBouncerTarget.binary() != null;
        Scenario s = shortened("idle", pgbouncer ? List.of("direct", "sluice", "pgbouncer") : List.of("direct", "sluice"));
        Run r = replay(s);
        String why = r.table();
        Map<String, Object> direct = r.mode("direct");
        Map<String, Object> sluice = r.mode("sluice");
        for (Map<String, Object> m : List.of(direct, sluice)) {
            assertThat(m).containsKeys("api_requests", "api_errors", "api_availability", "p99_ms",
                    "peak_db_connections", "first_alert_s", "leak_attributed_s", "series");
            assertThat((List<?>) m.get("series")).hasSize(20);
            assertThat(d(m, "api_requests")).as(why).isEqualTo(400);
            assertThat(d(m, "baseline_availability")).as(why).isGreaterThanOrEqualTo(0.99); // healthy before the deploy
        }
        double slots = ((Number) r.json().get("ordinary_connection_slots")).doubleValue();

        // direct: the job fills the database and most API requests fail from then on
        assertThat(direct.get("db_full_s")).as(why).isNotNull();
        assertThat(d(direct, "availability_after_db_full")).as(why).isLessThan(0.5);
        assertThat(d(direct, "peak_db_connections")).as(why).isEqualTo(slots);
        assertThat(direct.get("first_alert_s")).isNull();
        assertThat(direct.get("leak_attributed_s")).isNull();

        // sluice: the API keeps ≥ 99.9%, the job hits its own limit, is refused (reported) and named
        assertThat(d(sluice, "api_availability")).as(why).isGreaterThanOrEqualTo(0.999);
        assertThat(d(sluice, "api_availability")).isGreaterThan(d(direct, "api_availability"));
        assertThat(d(sluice, "api_errors")).as(why).isLessThan(d(direct, "api_errors"));
        // Not "below direct's": once PostgreSQL is full, direct requests fail fast. Sluice's must stay fast.
        assertThat(d(sluice, "p99_ms")).as(why).isLessThan(1000.0);
        assertThat(sluice.get("db_full_s")).as(why).isNull();
        assertThat(d(sluice, "peak_db_connections")).as(why).isLessThan(d(direct, "peak_db_connections"));
        assertThat(d(sluice, "job_peak_connections_held")).as(why).isLessThanOrEqualTo(20); // analytics max_clients
        assertThat(d(sluice, "job_failures")).as(why).isGreaterThan(0);
        assertThat(d(sluice, "first_refusal_s")).as(why).isBetween(0.0, 18.0);
        assertThat(d(sluice, "first_alert_s")).as(why).isBetween(0.0, 18.0);
        assertThat((String) sluice.get("first_alert_meaning")).contains("first alert Sluice's alert engine fired");
        assertThat(((List<?>) sluice.get("alerts")).stream().map(a -> (Map<?, ?>) a)
                .filter(a -> String.valueOf(a.get("key")).contains("analytics"))).as(why).isNotEmpty();
        // named: since the leak detector counts refusals at max_clients, also a leak capped within a second
        assertThat(d(sluice, "leak_attributed_s")).as(why).isBetween(0.0, 18.0);
        assertThat((String) sluice.get("leak_attribution")).contains("analytics-job");

        if (pgbouncer) {
            Map<String, Object> pgb = r.mode("pgbouncer");
            assertThat(d(pgb, "incident_availability")).as(why).isLessThan(d(sluice, "incident_availability"));
            assertThat(d(pgb, "api_500")).as(why).isGreaterThan(0); // refused at max_client_conn
            assertThat(d(pgb, "job_peak_connections_held")).as(why).isGreaterThan(d(sluice, "job_peak_connections_held"));
            assertThat(d(pgb, "api_availability")).as(why).isLessThan(d(sluice, "api_availability"));
            assertThat(pgb.get("leak_attributed_s")).isNull();
        } else {
            assertThat(r.mode("pgbouncer").get("ran")).isEqualTo(false);
        }
        assertThat(r.html()).startsWith("<!doctype html>").contains("<svg").doesNotContain("<script").doesNotContain("http://cdn")
                .doesNotContain("https://");
    }

    @Test
    void transactionLeakDirectFailsSluiceHolds() throws Exception {
        Scenario s = shortened("transaction", List.of("direct", "sluice"));
        Run r = replay(s);
        String why = r.table();
        Map<String, Object> direct = r.mode("direct");
        Map<String, Object> sluice = r.mode("sluice");
        assertThat(d(direct, "availability_after_db_full")).as(why).isLessThan(0.5);
        assertThat(d(sluice, "api_availability")).as(why).isGreaterThanOrEqualTo(0.999);
        assertThat(d(sluice, "peak_db_connections")).as(why).isLessThan(d(direct, "peak_db_connections"));
        assertThat(sluice.get("first_alert_s")).as(why).isNotNull();
        assertThat(sluice.get("leak_attributed_s")).as(why).isNotNull();
    }
}
