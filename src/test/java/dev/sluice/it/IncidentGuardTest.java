package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.config.ConfigLoader;
import dev.sluice.server.SluiceServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The incident end to end on a PostgreSQL of its own with max_connections = 30: the API runs steady
 * transactions through Sluice while the analytics job leaks both ways (idle connections never closed,
 * transactions left open). The API sees no error and bounded waits; PostgreSQL never holds more of
 * Sluice's connections than the budget read from it; a script that bypasses Sluice shrinks the budget
 * and is reported.
 */
class IncidentGuardTest {
    private static Connection as(int port, String app) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        p.setProperty("prepareThreshold", "0");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static int one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void theApiSurvivesALeakingJobAndTheBudgetHolds() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "30").start()) {
            Path dir = Files.createTempDirectory("sluice-incident");
            Path ini = dir.resolve("sluice.ini");
            Files.writeString(ini, """
                    [databases]
                    * = host=127.0.0.1 port=%d
                    [sluice]
                    listen_addr = 127.0.0.1
                    listen_port = 0
                    auth_type = trust
                    pool_mode = transaction
                    default_pool_size = 40
                    max_client_conn = 500
                    max_db_connections = auto
                    budget_user = postgres
                    budget_check_interval = 1s
                    admin_users = postgres
                    query_wait_timeout = 5
                    leak_idle_age = 1
                    leak_min_connections = 5
                    leak_window = 10
                    [workloads]
                    api = match=application_name:api* reserve=8 priority=10 queue_timeout=3s
                    analytics = match=application_name:analytics* max=10 max_clients=100 queue_timeout=1s idle_transaction_timeout=2s
                    """.formatted(pg.getPort()));
            SluiceServer sluice = new SluiceServer(ConfigLoader.load(ini), 2);
            int port = sluice.start();
            try {
                var monitor = sluice.budgetMonitors().get(0);
                await().atMost(Duration.ofSeconds(15)).until(() -> monitor.snapshot().budget().isPresent());
                int budget = monitor.snapshot().budget().getAsInt();
                // 30 - 3 superuser_reserved - 1 monitor - 2 headroom (5%, rounded up)
                assertThat(budget).isEqualTo(24);

                AtomicBoolean running = new AtomicBoolean(true);
                AtomicInteger apiOk = new AtomicInteger();
                List<Throwable> apiErrors = Collections.synchronizedList(new ArrayList<>());
                AtomicLong apiWorstMs = new AtomicLong();
                AtomicInteger peakSluiceBackends = new AtomicInteger();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 4; t++) { // the API: steady short transactions
                    threads.add(new Thread(() -> {
                        try (Connection c = as(port, "api-server")) {
                            c.setAutoCommit(false);
                            while (running.get()) {
                                long t0 = System.nanoTime();
                                try {
                                    one(c, "SELECT count(*) FROM pg_class");
                                    c.commit();
                                    apiOk.incrementAndGet();
                                } catch (SQLException e) {
                                    apiErrors.add(e);
                                    c.rollback();
                                }
                                apiWorstMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
                                Thread.sleep(20);
                            }
                        } catch (Exception e) {
                            apiErrors.add(e);
                        }
                    }));
                }
                threads.add(new Thread(() -> { // sample what PostgreSQL sees
                    try (Connection d = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort()
                            + "/postgres?user=postgres&ApplicationName=sampler")) {
                        while (running.get()) {
                            int n = one(d, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                                    + " AND application_name NOT IN ('sampler', 'rogue-script')"
                                    + " AND application_name NOT LIKE 'sluice%'");
                            peakSluiceBackends.accumulateAndGet(n, Math::max);
                            Thread.sleep(100);
                        }
                    } catch (Exception e) {
                        apiErrors.add(e);
                    }
                }));
                threads.forEach(Thread::start);

                // The job: a new connection per task, never closed ...
                List<Connection> leaked = new ArrayList<>();
                AtomicInteger jobRefusals = new AtomicInteger();
                for (int i = 0; i < 60; i++) {
                    try {
                        Connection c = as(port, "analytics-job");
                        one(c, "SELECT 1");
                        leaked.add(c);
                    } catch (SQLException e) {
                        jobRefusals.incrementAndGet();
                    }
                    Thread.sleep(30);
                }
                // ... and transactions left open, more than its max
                for (Connection c : leaked.subList(0, 20)) {
                    Thread th = new Thread(() -> {
                        try {
                            c.setAutoCommit(false);
                            one(c, "SELECT 1"); // holds a server until idle_transaction_timeout
                        } catch (SQLException e) {
                            jobRefusals.incrementAndGet();
                        }
                    });
                    th.start();
                }
                Thread.sleep(4000);

                // A script that bypasses Sluice: 5 direct connections
                List<Connection> rogue = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    rogue.add(DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort()
                            + "/postgres?user=postgres&ApplicationName=rogue-script"));
                }
                // 5 rogue connections + the sampler: waiting for 5 alone could catch a read with 4 of the rogue ones.
                await().atMost(Duration.ofSeconds(10)).until(() -> monitor.snapshot().bypassing() >= 6);
                assertThat(monitor.snapshot().budget().getAsInt()).isEqualTo(budget - 5 - 1); // rogue + sampler
                assertThat(monitor.snapshot().bypass()).anySatisfy(g -> {
                    assertThat(g.applicationName()).isEqualTo("rogue-script");
                    assertThat(g.count()).isEqualTo(5);
                });
                try (Console console = Console.open(port, "postgres", null)) {
                    var bypass = console.query("SHOW BYPASS");
                    assertThat(bypass.rows()).anySatisfy(r -> assertThat(r)
                            .containsEntry("application_name", "rogue-script").containsEntry("connections", "5"));
                    var b = console.query("SHOW BUDGET");
                    assertThat(b.rows()).hasSize(1);
                    assertThat(b.rows().get(0)).containsEntry("max_connections", "30")
                            .containsEntry("budget", String.valueOf(budget - 6));
                }
                Thread.sleep(2000);
                running.set(false);
                for (Thread th : threads) {
                    th.join(20_000);
                }

                assertThat(apiErrors).isEmpty();
                assertThat(apiOk.get()).isGreaterThan(100);
                assertThat(apiWorstMs.get()).isLessThan(3000);
                assertThat(peakSluiceBackends.get()).isLessThanOrEqualTo(budget);
                assertThat(jobRefusals.get()).isGreaterThan(0); // the job hit its own limits
                assertThat(sluice.leakDetector().suspects()).anySatisfy(s ->
                        assertThat(s.source().applicationName()).isEqualTo("analytics-job"));
                for (Connection c : rogue) {
                    c.close();
                }
                for (Connection c : leaked) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // closed by idle_transaction_timeout
                    }
                }
            } finally {
                sluice.close();
            }
        }
    }
}
