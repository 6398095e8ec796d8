package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.sluice.config.ConfigLoader;
import dev.sluice.observe.Alert;
import dev.sluice.server.SluiceServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The postmortem's missing alarm: on a PostgreSQL of its own (max_connections = 20, so Sluice's budget is
 * 15), a job holds ever more server connections through Sluice. A webhook receiver gets SluiceBudgetHigh a
 * few seconds after 80% of the budget is crossed (its first delivery fails and is retried), naming the job,
 * and a resolve once the connections are gone.
 */
class AlertWebhookTest {
    record Received(long atMillis, String body) {}

    @Test
    void theBudgetAlertReachesTheWebhookSoonAfterTheThresholdAndResolvesAfter() throws Exception {
        BlockingQueue<Received> hooks = new LinkedBlockingQueue<>();
        AtomicInteger requests = new AtomicInteger();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int n = requests.incrementAndGet();
            int status = n == 1 ? 503 : 200; // the first delivery fails: Sluice must retry it
            if (status == 200) {
                hooks.add(new Received(System.currentTimeMillis(), body));
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        receiver.start();
        List<Connection> held = new ArrayList<>();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "20").start()) {
            Path ini = Files.createTempDirectory("sluice-alerts").resolve("sluice.ini");
            Files.writeString(ini, """
                    [databases]
                    * = host=127.0.0.1 port=%d
                    [sluice]
                    listen_addr = 127.0.0.1
                    listen_port = 0
                    auth_type = trust
                    pool_mode = transaction
                    default_pool_size = 30
                    max_db_connections = auto
                    budget_user = postgres
                    budget_check_interval = 1s
                    server_idle_timeout = 1
                    stats_listen = 127.0.0.1:0
                    admin_users = postgres
                    [alerts]
                    fire_after = 1s
                    resolve_after = 1s
                    webhook = http://127.0.0.1:%d/hook
                    """.formatted(pg.getPort(), receiver.getAddress().getPort()));
            SluiceServer sluice = new SluiceServer(ConfigLoader.load(ini), 2);
            int port = sluice.start();
            try {
                var monitor = sluice.budgetMonitors().get(0);
                await().atMost(Duration.ofSeconds(15)).until(() -> monitor.snapshot().budget().isPresent());
                assertThat(monitor.snapshot().budget().getAsInt()).isEqualTo(15); // 20 - 3 - monitor 1 - headroom 1

                long crossed = 0;
                for (int i = 1; i <= 13; i++) { // 13 of 15 = 87%: over 80%, under 95%
                    held.add(holdingTransaction(port));
                    if (i == 12) {
                        crossed = System.currentTimeMillis(); // 12 of 15 = 80%
                    }
                }
                Received fired = hooks.poll(15, TimeUnit.SECONDS);
                assertThat(fired).as("firing webhook").isNotNull();
                assertThat(fired.atMillis() - crossed).as("ms from crossing 80% to the webhook").isLessThan(6000);
                String server = "127.0.0.1:" + pg.getPort();
                assertThat(fired.body()).contains("\"status\":\"firing\"").contains("\"alertname\":\"SluiceBudgetHigh\"")
                        .contains("\"severity\":\"warning\"").contains("\"server\":\"" + server + "\"")
                        .contains("Sluice holds 1").contains("of its budget of 15 server connections")
                        .contains("report-job").contains("\"budget\":15");
                assertThat(requests.get()).isGreaterThanOrEqualTo(2); // the 503, then the retry

                assertThat(sluice.alerts().firstFired("SluiceBudgetHigh")).isPresent();
                assertThat(sluice.alerts().firstFired("SluiceBudgetCritical")).isEmpty();
                assertThat(sluice.alerts().firing()).extracting(Alert::name).contains("SluiceBudgetHigh");
                try (Console console = Console.open(port, "postgres", null)) { // and in the admin console
                    assertThat(console.query("SHOW ALERTS").rows()).anySatisfy(r -> assertThat(r)
                            .containsEntry("name", "SluiceBudgetHigh").containsEntry("severity", "warning"));
                }
                int stats = sluice.statsPort();
                assertThat(Scrape.metrics(stats).value("sluice_alerts_firing", "alertname", "SluiceBudgetHigh"))
                        .isEqualTo(1);
                assertThat(Scrape.get(stats, "/api/alerts").body()).contains("\"alertname\":\"SluiceBudgetHigh\"");

                // the job lets go: its servers go idle, server_idle_timeout closes them, the alert resolves
                for (Connection c : held) {
                    c.close();
                }
                held.clear();
                Received resolved = null;
                long deadline = System.currentTimeMillis() + 20_000;
                while (resolved == null && System.currentTimeMillis() < deadline) {
                    Received r = hooks.poll(1, TimeUnit.SECONDS);
                    if (r != null && r.body().contains("\"alertname\":\"SluiceBudgetHigh\"")) {
                        resolved = r;
                    }
                }
                assertThat(resolved).as("resolved webhook").isNotNull();
                assertThat(resolved.body()).contains("\"status\":\"resolved\"").contains("\"endsAt\":\"");
                assertThat(sluice.alerts().firing()).extracting(Alert::name).doesNotContain("SluiceBudgetHigh");
            } finally {
                for (Connection c : held) {
                    c.close();
                }
                sluice.close();
            }
        } finally {
            receiver.stop(0);
        }
    }

    /** A client of the job: a connection through Sluice inside an open transaction, holding a server. */
    private static Connection holdingTransaction(int port) throws SQLException, IOException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", "report-job");
        p.setProperty("prepareThreshold", "0");
        Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT 1");
        }
        return c;
    }
}
