package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Load through Sluice on the real PostgreSQL, read back through /metrics with a Prometheus text parser:
 * transactions, queries, bytes and their durations are counted; clients, servers, the budget read from the
 * server, workload queues and refusals are reported as they are.
 */
class MetricsTest {
    static final String CONFIG = """
            auth_type = trust
            pool_mode = transaction
            default_pool_size = 8
            max_db_connections = auto
            budget_user = postgres
            budget_check_interval = 1s
            stats_listen = 127.0.0.1:0

            [workloads]
            api = match=application_name:api* reserve=2 priority=10
            analytics = match=application_name:analytics* max=2 queue_timeout=2s breaker_failure_rate=50 breaker_min_calls=4 breaker_window=4
            """;

    static Connection as(SluiceHandle s, String app) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        p.setProperty("prepareThreshold", "0");
        return s.connect("postgres", p);
    }

    static int one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void loadShowsUpInMetrics() throws Exception {
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}", CONFIG, null)) {
            int port = s.server().statsPort();
            assertThat(port).isPositive();

            HttpResponse<String> health = Scrape.get(port, "/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> Scrape.get(port, "/readyz").statusCode() == 200);
            assertThat(Scrape.get(port, "/readyz").body()).startsWith("ready").contains("127.0.0.1:" + Postgres.port());
            assertThat(Scrape.get(port, "/nope").statusCode()).isEqualTo(404);

            Scrape.Metrics before = Scrape.metrics(port);
            assertThat(before.text()).contains("# TYPE sluice_workload_clients gauge");

            try (Connection api = as(s, "api-server")) {
                for (int i = 0; i < 50; i++) {
                    assertThat(one(api, "SELECT " + i)).isEqualTo(i);
                }
                api.setAutoCommit(false);
                for (int i = 0; i < 10; i++) { // 10 transactions of 3 queries
                    one(api, "SELECT 1");
                    one(api, "SELECT 2");
                    one(api, "SELECT 3 FROM pg_sleep(0.01)");
                    api.commit();
                }
                api.setAutoCommit(true);

                Scrape.Metrics m = Scrape.metrics(port);
                String[] pool = {"database", "postgres", "user", "postgres"};
                assertThat(m.value("sluice_transactions_total", pool)).isGreaterThanOrEqualTo(60);
                assertThat(m.value("sluice_queries_total", pool)).isGreaterThanOrEqualTo(80);
                assertThat(m.value("sluice_received_bytes_total", pool)).isGreaterThan(500);
                assertThat(m.value("sluice_sent_bytes_total", pool)).isGreaterThan(500);
                assertThat(m.value("sluice_transaction_duration_seconds_count", "database", "postgres", "workload", "api"))
                        .isGreaterThanOrEqualTo(60);
                // the 10 transactions with a 10 ms sleep are above 10 ms; the 50 single SELECTs are not all
                assertThat(m.value("sluice_transaction_duration_seconds_bucket", "workload", "api", "le", "0.01"))
                        .isLessThanOrEqualTo(m.value("sluice_transaction_duration_seconds_count", "workload", "api") - 10);
                assertThat(m.value("sluice_query_duration_seconds_count", "workload", "api")).isGreaterThanOrEqualTo(80);
                assertThat(m.value("sluice_workload_wait_seconds_count", "workload", "api")).isGreaterThanOrEqualTo(60);
                assertThat(m.value("sluice_clients", "workload", "api", "state", "idle")).isEqualTo(1);
                assertThat(m.value("sluice_servers", "database", "postgres", "state", "idle")).isGreaterThanOrEqualTo(1);
                assertThat(m.value("sluice_pool_size", "database", "postgres", "user", "postgres")).isEqualTo(8);
                assertThat(m.value("sluice_workload_clients", "workload", "api")).isEqualTo(1);
                assertThat(m.value("sluice_workload_reserved_servers", "workload", "api")).isEqualTo(2);
                assertThat(m.types()).containsEntry("sluice_transactions_total", "counter")
                        .containsEntry("sluice_transaction_duration_seconds", "histogram");

                // the budget read from PostgreSQL (max_connections = 60 in the test server)
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        Scrape.metrics(port).value("sluice_server_max_connections") == 60);
                m = Scrape.metrics(port);
                String server = "127.0.0.1:" + Postgres.port();
                assertThat(m.value("sluice_budget_connections", "server", server, "source", "auto")).isBetween(1.0, 53.0);
                assertThat(m.value("sluice_budget_used_connections", "server", server, "source", "auto"))
                        .isGreaterThanOrEqualTo(1);
                assertThat(m.value("sluice_budget_monitor_up", "server", server)).isEqualTo(1);
                assertThat(m.value("sluice_server_reserved_connections", "server", server)).isEqualTo(3);
                assertThat(m.value("sluice_postgres_reachable", "server", server)).isEqualTo(1);
                assertThat(m.value("sluice_alerts_firing", "alertname", "SluiceBudgetHigh")).isZero();

                // analytics at its max: a third request queues, then times out (a refusal by reason)
                Connection a1 = as(s, "analytics-job");
                Connection a2 = as(s, "analytics-job");
                Connection a3 = as(s, "analytics-job");
                a1.setAutoCommit(false);
                a2.setAutoCommit(false);
                one(a1, "SELECT 1");
                one(a2, "SELECT 1");
                CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> {
                    try {
                        one(a3, "SELECT 3");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                await().atMost(Duration.ofSeconds(2)).until(() ->
                        Scrape.metrics(port).value("sluice_workload_queue_length", "workload", "analytics") == 1);
                m = Scrape.metrics(port);
                assertThat(m.value("sluice_workload_servers_in_use", "workload", "analytics")).isEqualTo(2);
                assertThat(m.value("sluice_workload_max_servers", "workload", "analytics")).isEqualTo(2);
                assertThat(m.value("sluice_clients", "workload", "analytics", "state", "waiting")).isEqualTo(1);
                assertThat(m.value("sluice_clients", "workload", "analytics", "state", "active")).isEqualTo(2);
                assertThat(m.value("sluice_workload_breaker_state", "workload", "analytics", "state", "closed"))
                        .isEqualTo(1);
                assertThatThrownBy(waiter::join).hasRootCauseInstanceOf(SQLException.class)
                        .rootCause().hasMessageContaining("at its limit of 2");
                m = Scrape.metrics(port);
                assertThat(m.value("sluice_workload_shed_total", "workload", "analytics", "reason", "queue_timeout"))
                        .isEqualTo(1);
                assertThat(m.value("sluice_workload_wait_seconds_bucket", "workload", "analytics", "le", "1.0"))
                        .isLessThan(m.value("sluice_workload_wait_seconds_count", "workload", "analytics"));
                a1.close();
                a2.close();
                a3.close();
            }

            // naming conventions: prefix, _total only on counters, HELP on every family
            Scrape.Metrics m = Scrape.metrics(port);
            for (String name : m.names()) {
                assertThat(name).startsWith("sluice_");
            }
            m.types().forEach((name, type) -> {
                assertThat(name.endsWith("_total")).as(name).isEqualTo(type.equals("counter"));
                assertThat(m.text()).contains("# HELP " + name + " ");
            });
        }
    }
}
