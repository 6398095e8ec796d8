package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The 2025-02-27 incident, in miniature: an analytics job that leaks connections (idle ones never
 * closed, and transactions left open) must hit its own limits with clear errors while the API keeps
 * getting server connections.
 */
class WorkloadGuardTest {
    private static final String WORKLOADS = """

            [workloads]
            api = match=application_name:api* reserve=3 priority=10
            analytics = match=application_name:analytics* max=%d max_clients=5 queue_timeout=1s
            """;

    private static SluiceHandle start(int analyticsMax) throws Exception {
        return SluiceHandle.trust("transaction", 6, "query_wait_timeout = 10" + WORKLOADS.formatted(analyticsMax));
    }

    private static Connection as(SluiceHandle s, String app) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("ApplicationName", app);
        p.setProperty("prepareThreshold", "0");
        return s.connect("postgres", p);
    }

    private static int one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** PostgreSQL's clock when the statement ran, in microseconds: the order in which a server ran queries. */
    private static long serverClockMicros(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Connection openTransaction(SluiceHandle s, String app) throws SQLException {
        Connection c = as(s, app);
        c.setAutoCommit(false);
        one(c, "SELECT 1");
        return c;
    }

    @Test
    void leakedIdleConnectionsHitTheJobsMaxClientsNotTheApi() throws Exception {
        try (SluiceHandle s = start(2)) {
            List<Connection> leaked = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                leaked.add(as(s, "analytics-job"));
            }
            assertThatThrownBy(() -> as(s, "analytics-job"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("53300");
                        assertThat(e.getMessage()).contains("workload \"analytics\" has 5 client connections (max_clients)");
                    });
            // the API is untouched: new connections and queries work
            for (int i = 0; i < 10; i++) {
                try (Connection api = as(s, "api-server")) {
                    assertThat(one(api, "SELECT 42")).isEqualTo(42);
                }
            }
            for (Connection c : leaked) {
                c.close();
            }
            Thread.sleep(200);
            try (Connection again = as(s, "analytics-job")) { // room again once the job closes its connections
                assertThat(one(again, "SELECT 1")).isEqualTo(1);
            }
        }
    }

    @Test
    void aJobWhoseRequestsKeepTimingOutIsShedFastByItsCircuitBreaker() throws Exception {
        String cfg = "query_wait_timeout = 10\n\n[workloads]\n"
                + "api = match=application_name:api* reserve=2\n"
                + "analytics = match=application_name:analytics* max=1 queue_timeout=300ms breaker_failure_rate=50"
                + " breaker_window=4 breaker_min_calls=4 breaker_open_for=2s\n";
        try (SluiceHandle s = SluiceHandle.trust("transaction", 4, cfg)) {
            Connection holder = openTransaction(s, "analytics-job");
            try (Connection job = as(s, "analytics-job"); Connection api = as(s, "api-server")) {
                // The holder's admission succeeded; each further request waits 300 ms and times out (53300)
                // until 50% of the last 4 admissions failed: then the breaker opens.
                int timeouts = 0;
                SQLException shed = null;
                long shedMs = 0;
                for (int i = 0; i < 6 && shed == null; i++) {
                    long t0 = System.nanoTime();
                    try {
                        one(job, "SELECT 1");
                    } catch (SQLException e) {
                        if (e.getSQLState().equals("53300")) {
                            timeouts++;
                        } else {
                            shed = e;
                            shedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                        }
                    }
                }
                assertThat(timeouts).isEqualTo(3);
                assertThat((Object) shed).isNotNull();
                assertThat(shed.getSQLState()).isEqualTo("57P03");
                assertThat(shed.getMessage()).contains("workload \"analytics\" is shed for 2s after 75% of recent requests failed");
                assertThat(shedMs).isLessThan(250L); // refused at once, no queueing
                assertThat(one(api, "SELECT 5")).isEqualTo(5); // other workloads untouched
                holder.commit();
                Thread.sleep(2200); // cool-down over: half-open probes succeed and close the breaker
                for (int i = 0; i < 5; i++) {
                    assertThat(one(job, "SELECT 6")).isEqualTo(6);
                }
            } finally {
                holder.close();
            }
        }
    }

    @Test
    void aBoundedQueueRefusesAtOnceAndLongTransactionsAreEndedAndPriorityWins() throws Exception {
        String cfg = "query_wait_timeout = 10\n\n[workloads]\n"
                + "api = match=application_name:api* priority=10\n"
                + "reports = match=application_name:report* priority=1\n"
                + "analytics = match=application_name:analytics* max=1 max_queue=1 queue_timeout=5s"
                + " transaction_timeout=2s\n";
        try (SluiceHandle s = SluiceHandle.trust("transaction", 1, cfg)) {
            // transaction_timeout: a transaction of the job held open for over 2 s is ended (25P04)
            Connection holder = openTransaction(s, "analytics-job");
            try (Connection queued = as(s, "analytics-job"); Connection refused = as(s, "analytics-job")) {
                // max_queue=1: the first waiter queues, the second is refused at once
                Thread waiter = new Thread(() -> {
                    try {
                        one(queued, "SELECT 1");
                    } catch (SQLException ignored) {
                        // it is served once the holder's transaction is ended
                    }
                });
                waiter.start();
                Thread.sleep(300);
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> one(refused, "SELECT 1"))
                        .satisfies(e -> assertThat(e.getMessage())
                                .contains("workload \"analytics\" already has 1 clients waiting for a server connection (max_queue)"));
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(500L);
                waiter.join(10_000);
                assertThatThrownBy(() -> one(holder, "SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(e.getMessage()).contains("transaction_timeout"));
            } finally {
                holder.close();
            }
            // priority: with one server busy, a waiting api client is served before an earlier reports client.
            // The order is read on the server (the pool has one connection, so whoever runs first was served
            // first), not from which client thread finishes first: that is the OS scheduler's choice.
            Connection busy = openTransaction(s, "api-busy");
            java.util.Map<String, Long> ranAt = new java.util.concurrent.ConcurrentHashMap<>();
            List<String> failed = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread report = new Thread(() -> {
                try (Connection c = as(s, "report-job")) {
                    ranAt.put("reports", serverClockMicros(c));
                } catch (SQLException e) {
                    failed.add("reports: " + e.getMessage());
                }
            });
            report.start();
            Thread.sleep(500); // the report client is waiting first
            Thread api = new Thread(() -> {
                try (Connection c = as(s, "api-server")) {
                    ranAt.put("api", serverClockMicros(c));
                } catch (SQLException e) {
                    failed.add("api: " + e.getMessage());
                }
            });
            api.start();
            Thread.sleep(500);
            busy.commit();
            report.join(10_000);
            api.join(10_000);
            busy.close();
            assertThat(failed).isEmpty();
            assertThat(ranAt).containsOnlyKeys("api", "reports");
            assertThat(ranAt.get("api")).as("api served before reports").isLessThan(ranAt.get("reports"));
        }
    }

    @Test
    void theLeakingJobIsNamedAsALeakSuspect() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 6, "leak_idle_age = 1\nleak_min_connections = 3\n"
                + "admin_users = postgres\nleak_window = 10" + WORKLOADS.formatted(2).replace("max_clients=5", "max_clients=50"))) {
            List<Connection> leaked = new ArrayList<>();
            try (Connection api = as(s, "api-server")) {
                for (int i = 0; i < 8; i++) { // one new connection per task, never closed
                    Connection c = as(s, "analytics-job");
                    one(c, "SELECT count(*) FROM pg_class");
                    leaked.add(c);
                    one(api, "SELECT 1"); // the API stays busy, never idle
                    Thread.sleep(500);
                }
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                        .until(() -> !s.server().leakDetector().suspects().isEmpty());
                var suspects = s.server().leakDetector().suspects();
                assertThat(suspects).hasSize(1);
                assertThat(suspects.get(0).source().workload()).isEqualTo("analytics");
                assertThat(suspects.get(0).source().applicationName()).isEqualTo("analytics-job");
                assertThat(suspects.get(0).source().address()).isEqualTo("127.0.0.1");
                assertThat(suspects.get(0).lastStatement()).isEqualTo("SELECT count(*) FROM pg_class");
                assertThat(suspects.get(0).idleConnections()).isGreaterThanOrEqualTo(3);
                // and the operator sees it in the admin console
                try (Console console = Console.open(s, "postgres", null)) {
                    var leaks = console.query("SHOW LEAKS");
                    assertThat(leaks.rows()).hasSize(1);
                    assertThat(leaks.rows().get(0)).containsEntry("workload", "analytics")
                            .containsEntry("application_name", "analytics-job")
                            .containsEntry("addr", "127.0.0.1")
                            .containsEntry("last_statement", "SELECT count(*) FROM pg_class");
                    var workloads = console.query("SHOW WORKLOADS");
                    assertThat(workloads.rows()).anySatisfy(r -> {
                        assertThat(r).containsEntry("name", "analytics").containsEntry("max", "2");
                        assertThat(Integer.parseInt(r.get("clients"))).isEqualTo(8);
                    });
                }
            } finally {
                for (Connection c : leaked) {
                    c.close();
                }
            }
        }
    }

    @Test
    void openTransactionsOfTheJobAreCappedAtItsMaxAndTheApiKeepsWorking() throws Exception {
        try (SluiceHandle s = start(2)) {
            Connection t1 = openTransaction(s, "analytics-job");
            Connection t2 = openTransaction(s, "analytics-job");
            try (Connection third = as(s, "analytics-job")) {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> one(third, "SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> {
                            assertThat(((SQLException) e).getSQLState()).isEqualTo("53300");
                            assertThat(e.getMessage()).contains("workload \"analytics\" is at its limit of 2 server connections")
                                    .contains("queue_timeout of workload \"analytics\"");
                        });
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(900L, 5000L);
                // four API transactions at once, while the job holds its two
                List<Connection> api = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    api.add(openTransaction(s, "api-server"));
                }
                for (Connection c : api) {
                    c.commit();
                    c.close();
                }
            } finally {
                t1.close();
                t2.close();
            }
        }
    }

    @Test
    void theApisReserveIsKeptFreeEvenBelowTheJobsMax() throws Exception {
        // capacity 6 (pool_size), api reserves 3: the job may hold only 3 although its max is 5
        try (SluiceHandle s = start(5)) {
            List<Connection> job = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                job.add(openTransaction(s, "analytics-job"));
            }
            try (Connection fourth = as(s, "analytics-job")) {
                assertThatThrownBy(() -> one(fourth, "SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(e.getMessage())
                                .contains("reserved for other workloads (api: 3"));
            }
            List<Connection> api = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                api.add(openTransaction(s, "api-server"));
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(3000L);
            for (Connection c : api) {
                c.commit();
                c.close();
            }
            for (Connection c : job) {
                c.close();
            }
        }
    }
}
