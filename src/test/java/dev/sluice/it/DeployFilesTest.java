package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/prometheus/sluice-alerts.yml and deploy/grafana/sluice-dashboard.json only use metrics Sluice
 * really exports: a Sluice is driven until every metric family has samples (a leak suspect, a bypassing
 * connection, a breaker, a webhook included), and every sluice_* name in the files must be among them.
 * The alerting rules mirror Sluice's own alert names.
 */
class DeployFilesTest {
    private static final Pattern METRIC = Pattern.compile("\\bsluice_[a-z0-9_]+\\b");

    @Test
    void alertRulesAndDashboardReferenceOnlyExportedMetrics() throws Exception {
        Set<String> exported = exportedMetricNames();

        Map<String, Object> rules;
        try (InputStream in = Files.newInputStream(Path.of("deploy/prometheus/sluice-alerts.yml"))) {
            rules = new Yaml().load(in);
        }
        List<String> alertNames = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        for (Object g : (List<?>) rules.get("groups")) {
            for (Object r : (List<?>) ((Map<?, ?>) g).get("rules")) {
                Map<?, ?> rule = (Map<?, ?>) r;
                alertNames.add((String) rule.get("alert"));
                exprs.add(String.valueOf(rule.get("expr")));
                assertThat(((Map<?, ?>) rule.get("labels")).get("severity")).as(rule.get("alert") + " severity")
                        .isIn("warning", "critical");
                assertThat(((Map<?, ?>) rule.get("annotations")).get("summary")).isNotNull();
            }
        }
        assertThat(alertNames).containsAll(dev.sluice.config.AlertsConfig.ALERT_NAMES);
        assertReferencesExported("sluice-alerts.yml", exprs, exported);

        Map<String, Object> dashboard;
        try (InputStream in = Files.newInputStream(Path.of("deploy/grafana/sluice-dashboard.json"))) {
            dashboard = new Yaml().load(in); // JSON is YAML
        }
        assertThat(dashboard.get("title")).isEqualTo("Sluice");
        List<String> dashExprs = new ArrayList<>();
        for (Object p : (List<?>) dashboard.get("panels")) {
            Object targets = ((Map<?, ?>) p).get("targets");
            if (targets != null) {
                for (Object t : (List<?>) targets) {
                    dashExprs.add(String.valueOf(((Map<?, ?>) t).get("expr")));
                }
            }
        }
        assertThat(dashExprs).hasSizeGreaterThan(15);
        assertReferencesExported("sluice-dashboard.json", dashExprs, exported);
    }

    private static void assertReferencesExported(String file, List<String> exprs, Set<String> exported) {
        for (String expr : exprs) {
            Matcher m = METRIC.matcher(expr);
            boolean any = false;
            while (m.find()) {
                any = true;
                assertThat(exported).as(file + ": " + expr).contains(m.group());
            }
            assertThat(any).as(file + ": references a sluice_ metric: " + expr).isTrue();
        }
    }

    /** Every sample name of a scrape of a Sluice in which every kind of thing has happened at least once. */
    private static Set<String> exportedMetricNames() throws Exception {
        List<Connection> open = new ArrayList<>();
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}", """
                auth_type = trust
                pool_mode = transaction
                default_pool_size = 8
                max_db_connections = auto
                budget_user = postgres
                budget_check_interval = 1s
                stats_listen = 127.0.0.1:0
                leak_idle_age = 1
                leak_min_connections = 2
                leak_window = 5
                [workloads]
                api = match=application_name:api* reserve=2
                jobs = match=application_name:leaky* breaker_failure_rate=50
                [alerts]
                webhook = http://127.0.0.1:9/nowhere
                """, null)) {
            // a connection that bypasses Sluice, for the bypass metrics
            open.add(DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + Postgres.port()
                    + "/postgres?user=postgres&ApplicationName=deploy-files-bypass"));
            try (Connection api = as(s, "api-server"); Statement st = api.createStatement()) {
                for (int i = 0; i < 5; i++) {
                    st.execute("SELECT 1");
                }
            }
            // a job opening a connection a second and never closing it: a leak suspect
            for (int i = 0; i < 8 && Scrape.metrics(s.server().statsPort()).value("sluice_leak_suspects") < 1; i++) {
                open.add(as(s, "leaky-job"));
                Thread.sleep(1000);
            }
            int port = s.server().statsPort();
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                Scrape.Metrics m = Scrape.metrics(port);
                return m.value("sluice_leak_suspects") >= 1 && m.value("sluice_bypass_connections") >= 1;
            });
            Scrape.Metrics m = Scrape.metrics(port);
            Files.writeString(Path.of("target", "metrics-sample.txt"), m.text()); // for promtool check metrics
            Set<String> names = new LinkedHashSet<>(m.names());
            assertThat(names).contains("sluice_leak_suspect_idle_connections", "sluice_bypass_group_connections",
                    "sluice_workload_breaker_state", "sluice_alert_webhook_deliveries_total",
                    "sluice_transaction_duration_seconds_bucket", "sluice_client_auth_failures_total");
            return names;
        } finally {
            for (Connection c : open) {
                c.close();
            }
        }
    }

    private static Connection as(SluiceHandle s, String app) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        p.setProperty("prepareThreshold", "0");
        return s.connect("postgres", p);
    }
}
