package dev.sluice.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.sluice.it.Postgres;
import dev.sluice.replay.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sluice audit` against real programs: the incident's analytics job (Java with pgjdbc, and shell with
 * psql) must fail, its fixed version must pass; idle-in-transaction and --max-connections are enforced.
 * The audited Sluice sits in front of the test PostgreSQL (--upstream), except in one embedded run.
 */
class AuditTest {
    @TempDir
    Path tmp;

    private static final Path EXAMPLES = Path.of("examples/audit").toAbsolutePath();
    private static final String PSQL = "/usr/bin/psql";

    record Outcome(int exit, String out, Map<String, Object> json) {
        @SuppressWarnings("unchecked")
        Map<String, Object> group(String app) {
            for (Object g : (List<Object>) json.get("groups")) {
                Map<String, Object> m = (Map<String, Object>) g;
                if (m.get("application_name").equals(app)) {
                    return m;
                }
            }
            throw new AssertionError("no group " + app + " in " + json.get("groups"));
        }
    }

    private Outcome audit(boolean embedded, int maxConnections, Duration maxIdle, boolean allowLeaks,
                          String... command) throws Exception {
        Path json = tmp.resolve("audit-" + System.nanoTime() + ".json");
        String upstream = embedded ? null : "postgres://postgres@127.0.0.1:" + Postgres.port() + "/postgres";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = new Audit(new AuditOptions(upstream, json, maxConnections, maxIdle, allowLeaks, List.of(command)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
                .run();
        String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        @SuppressWarnings("unchecked")
        Map<String, Object> m = Files.exists(json) ? (Map<String, Object>) Json.parse(Files.readString(json)) : Map.of();
        return new Outcome(exit, text, m);
    }

    private Outcome audit(String... command) throws Exception {
        return audit(false, 0, Duration.ofSeconds(5), false, command);
    }

    private static String[] javaJob(String file, int tasks) {
        String pgjdbc = Path.of(org.postgresql.Driver.class.getProtectionDomain().getCodeSource().getLocation()
                .getPath()).toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new String[] {java, "-cp", pgjdbc, EXAMPLES.resolve(file).toString(), String.valueOf(tasks)};
    }

    private static long num(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).longValue();
    }

    @Test
    void theIncidentsJavaJobFailsAndItsFixPasses() throws Exception {
        Outcome leaky = audit(javaJob("AnalyticsJob.java", 6));
        assertThat(leaky.exit()).as(leaky.out()).isEqualTo(1);
        Map<String, Object> g = leaky.group("analytics-job");
        assertThat(num(g, "opened")).isEqualTo(6);
        // pgjdbc's cleaner may close a leaked connection it finds unreachable; the others die with the JVM
        assertThat(num(g, "leaked")).isGreaterThanOrEqualTo(4);
        assertThat(num(g, "leaked_without_terminate")).isEqualTo(num(g, "leaked"));
        assertThat(g.get("client")).isEqualTo("java");
        assertThat(leaky.out()).contains("audit FAILED").contains("leaked connections: application_name \"analytics-job\"");

        Outcome fixed = audit(javaJob("AnalyticsJobFixed.java", 6));
        assertThat(fixed.exit()).as(fixed.out()).isEqualTo(0);
        Map<String, Object> f = fixed.group("analytics-job");
        assertThat(num(f, "opened")).isEqualTo(6);
        assertThat(num(f, "closed")).isEqualTo(6);
        assertThat(num(f, "leaked")).isZero();
        assertThat(num(f, "peak_concurrent")).isEqualTo(1);
        assertThat(num(f, "statements")).isGreaterThanOrEqualTo(6);
        assertThat(fixed.out()).contains("audit PASSED");
    }

    @Test
    void theShellJobWithPsqlFailsWhenItsSessionsOutliveItAndPassesWhenFixed() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PSQL)), "psql is not installed");
        Outcome leaky = audit("env", "LEAK_HOLD_SECONDS=8", EXAMPLES.resolve("analytics-job-leaky.sh").toString(), "3");
        assertThat(leaky.exit()).as(leaky.out()).isEqualTo(1);
        Map<String, Object> g = leaky.group("analytics-job");
        assertThat(num(g, "leaked_still_open")).isEqualTo(3);
        assertThat(g.get("client")).isEqualTo("psql");

        Outcome fixed = audit(EXAMPLES.resolve("analytics-job-fixed.sh").toString(), "3");
        assertThat(fixed.exit()).as(fixed.out()).isEqualTo(0);
        Map<String, Object> f = fixed.group("analytics-job");
        assertThat(num(f, "opened")).isEqualTo(3);
        assertThat(num(f, "closed")).isEqualTo(3);
        assertThat(f.get("client")).isEqualTo("psql");
    }

    @Test
    void aTransactionLeftIdleLongerThanTheLimitFails() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PSQL)), "psql is not installed");
        // psql waits for its \\! shell command while the transaction sits open and idle
        String script = "printf 'BEGIN;\\nSELECT 1;\\n\\\\! sleep 2\\nCOMMIT;\\n' | PGAPPNAME=report " + PSQL + " -X -q";
        Outcome slow = audit(false, 0, Duration.ofSeconds(1), false, "bash", "-c", script);
        assertThat(slow.exit()).as(slow.out()).isEqualTo(1);
        Map<String, Object> g = slow.group("report");
        assertThat(((Number) g.get("longest_idle_in_transaction_s")).doubleValue()).isBetween(1.5, 5.0);
        assertThat(((Number) g.get("longest_transaction_s")).doubleValue())
                .isGreaterThanOrEqualTo(((Number) g.get("longest_idle_in_transaction_s")).doubleValue());
        assertThat(num(g, "leaked")).isZero();
        assertThat(slow.out()).contains("idle in transaction: application_name \"report\"");

        Outcome within = audit(false, 0, Duration.ofSeconds(10), false, "bash", "-c", script);
        assertThat(within.exit()).as(within.out()).isEqualTo(0);
    }

    @Test
    void moreConnectionsAtOnceThanAllowedFail() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PSQL)), "psql is not installed");
        // three sessions at once, each closed properly (psql ends with Terminate when its input ends)
        String script = "for i in 1 2 3; do { echo 'SELECT 1;'; sleep 2; } | PGAPPNAME=fanout " + PSQL
                + " -X -q -o /dev/null & done; wait";
        Outcome o = audit(false, 2, Duration.ofSeconds(5), false, "bash", "-c", script);
        assertThat(o.exit()).as(o.out()).isEqualTo(1);
        assertThat(num(o.group("fanout"), "leaked")).isZero();
        assertThat(num(o.json(), "peak_concurrent")).isEqualTo(3);
        assertThat((List<?>) o.json().get("violations")).as(o.out()).hasSize(1);
        assertThat(o.out()).contains("too many connections").contains("limit 2, --max-connections");
    }

    @Test
    void withoutUpstreamAnEmbeddedPostgresIsAudited() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PSQL)), "psql is not installed");
        Outcome o = audit(true, 0, Duration.ofSeconds(5), false, PSQL, "-X", "-c", "SELECT 1");
        assertThat(o.exit()).as(o.out()).isEqualTo(0);
        assertThat(num(o.json(), "connections_total")).isEqualTo(1);
    }

    @Test
    void aCommandThatCannotStartIsExitTwo() throws Exception {
        Outcome o = audit("/nonexistent/job");
        assertThat(o.exit()).isEqualTo(2);
        assertThat(o.out()).contains("could not start /nonexistent/job");
        Outcome bad = new Outcome(new Audit(new AuditOptions("mysql://x", null, 0, Duration.ZERO, false,
                List.of("true")), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(new ByteArrayOutputStream())).run(), "", Map.of());
        assertThat(bad.exit()).isEqualTo(2);
        List<String> none = new ArrayList<>();
        assertThat(new Audit(new AuditOptions(null, null, 0, Duration.ZERO, false, none),
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(new ByteArrayOutputStream())).run())
                .isEqualTo(2);
    }
}
