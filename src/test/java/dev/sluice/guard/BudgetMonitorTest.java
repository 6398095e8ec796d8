package dev.sluice.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.config.BudgetHeadroom;
import dev.sluice.config.BudgetTarget;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Against a real PostgreSQL 17 of its own with max_connections = 30, superuser_reserved_connections = 2 and
 * reserved_connections = 1, so the numbers are the server's and not a mock's. Direct pgjdbc connections
 * play the part of the leaky job that bypasses Sluice.
 */
class BudgetMonitorTest {

    private static EmbeddedPostgres pg;

    private final List<Connection> direct = new ArrayList<>();
    private final List<BudgetMonitor> monitors = new ArrayList<>();
    private ListAppender<ILoggingEvent> logs;
    private Logger monitorLogger;

    @BeforeAll
    static void startPostgres() throws IOException, SQLException {
        pg = EmbeddedPostgres.builder()
                .setServerConfig("max_connections", "30")
                .setServerConfig("superuser_reserved_connections", "2")
                .setServerConfig("reserved_connections", "1")
                .start();
        try (Connection c = superuser("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE watcher LOGIN");                        // may not see others' details
            st.execute("CREATE ROLE reader LOGIN IN ROLE pg_read_all_stats"); // may
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE pwuser LOGIN PASSWORD 'right'");
            ResultSet rs = st.executeQuery("SHOW hba_file");
            rs.next();
            Files.writeString(Path.of(rs.getString(1)), String.join("\n",
                    "local all all trust",
                    "host all pwuser 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 trust",
                    ""));
            st.execute("SELECT pg_reload_conf()");
        }
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (pg != null) {
            pg.close();
        }
    }

    @BeforeEach
    void captureLogs() {
        monitorLogger = (Logger) LoggerFactory.getLogger(BudgetMonitor.class);
        logs = new ListAppender<>();
        logs.start();
        monitorLogger.addAppender(logs);
        // Other tests run CLI commands in this JVM that set dev.sluice's level (cli/Logs): pin ours.
        monitorLogger.setLevel(Level.INFO);
    }

    @AfterEach
    void cleanUp() throws SQLException {
        monitors.forEach(BudgetMonitor::close);
        for (Connection c : direct) {
            c.close();
        }
        monitorLogger.detachAppender(logs);
        monitorLogger.setLevel(null);
    }

    @Test
    void budgetIsTheServersSettingsMinusReservedMonitorAndHeadroom() throws Exception {
        BudgetMonitor m = monitor("postgres", pg.getPort(), Set::of);
        BudgetSnapshot s = settledWithoutBypass(m);

        ServerCapacity c = s.capacity();
        assertThat(c.maxConnections()).isEqualTo(30);
        assertThat(c.superuserReserved()).isEqualTo(2);
        assertThat(c.reserved()).isEqualTo(1);
        assertThat(c.monitorConnections()).isEqualTo(1);
        assertThat(c.headroom()).isEqualTo(2); // 5% of 30, rounded up
        assertThat(c.budget()).isEqualTo(24);
        assertThat(c.explain()).isEqualTo("budget 24 = max_connections 30 - superuser_reserved 2 - reserved 1 - "
                + "bypassing 0 - monitor 1 - headroom 2");
        assertThat(s.isKnown()).isTrue();
        assertThat(s.isStale()).isFalse();
        assertThat(s.seesAllSessions()).isTrue();
        assertThat(s.serverVersion()).startsWith("17.");
        assertThat(s.server()).isEqualTo("127.0.0.1:" + pg.getPort());
        assertThat(s.excess(24)).isZero();
        assertThat(s.excess(27)).isEqualTo(3);
        assertThat(messages(Level.INFO)).contains("budget on 127.0.0.1:" + pg.getPort() + ": " + c.explain());
    }

    @Test
    void directConnectionsAreBypassingAndGrouped() throws Exception {
        BudgetMonitor m = monitor("postgres", pg.getPort(), Set::of);
        int before = settledWithoutBypass(m).capacity().budget();
        logs.list.clear(); // leftovers of earlier tests may have been logged while settling

        openDirect("leaky-job", 4);
        openDirect("psql", 1);
        BudgetSnapshot s = m.refresh().get();

        assertThat(s.bypassing()).isEqualTo(5);
        assertThat(s.capacity().budget()).isEqualTo(before - 5);
        assertThat(s.bypass()).extracting(BypassGroup::describe).containsExactly(
                "app=leaky-job user=postgres addr=127.0.0.1 (4)",
                "app=psql user=postgres addr=127.0.0.1 (1)");
        assertThat(s.bypass().get(0).hidden()).isFalse();
        assertThat(s.bypass().get(0).oldestBackendStart()).isNotNull();
        assertThat(messages(Level.WARN)).containsExactly("bypass: 5 connections not through Sluice: "
                + "app=leaky-job user=postgres addr=127.0.0.1 (4), app=psql user=postgres addr=127.0.0.1 (1); "
                + "server=127.0.0.1:" + pg.getPort());

        // Unchanged: nothing new is logged. Shrinking: logged at INFO. Gone: said once.
        m.refresh().get();
        assertThat(messages(Level.WARN)).hasSize(1);
        direct.remove(direct.size() - 1).close();
        await().untilAsserted(() -> assertThat(m.refresh().get().bypassing()).isEqualTo(4));
        assertThat(messages(Level.INFO)).contains("bypass: 4 connections not through Sluice: "
                + "app=leaky-job user=postgres addr=127.0.0.1 (4); server=127.0.0.1:" + pg.getPort());
        closeDirect();
        await().untilAsserted(() -> assertThat(m.refresh().get().bypass()).isEmpty());
        assertThat(messages(Level.INFO)).contains("bypass: no connections outside Sluice any more; server=127.0.0.1:"
                + pg.getPort());
        assertThat(messages(Level.WARN)).hasSize(1);
    }

    @Test
    void sluicesOwnConnectionsAreNotBypassing() throws Exception {
        Set<Integer> own = ConcurrentHashMap.newKeySet();
        BudgetMonitor m = monitor("postgres", pg.getPort(), () -> own);
        settledWithoutBypass(m);

        for (Connection c : openDirect("app-through-sluice", 3)) {
            own.add(pid(c));
        }
        openDirect("analytics", 2);
        BudgetSnapshot s = m.refresh().get();

        assertThat(s.sluiceConnections()).isEqualTo(3);
        assertThat(s.bypassing()).isEqualTo(2);
        assertThat(s.bypass()).extracting(BypassGroup::describe)
                .containsExactly("app=analytics user=postgres addr=127.0.0.1 (2)");
        assertThat(messages(Level.WARN)).noneMatch(w -> w.contains("app-through-sluice"));

        // A PID Sluice stops reporting is still excused at the next check (its backend may be exiting),
        // and counted from the one after.
        int dropped = own.iterator().next();
        own.remove(dropped);
        assertThat(m.refresh().get().bypassing()).isEqualTo(2);
        assertThat(m.refresh().get().bypassing()).isEqualTo(3);
    }

    @Test
    void otherRolesSessionsAreCountedAsHiddenWithoutPgReadAllStats() throws Exception {
        BudgetMonitor watcher = monitor("watcher", pg.getPort(), Set::of);
        settledWithoutBypass(watcher);
        openDirect("leaky-job", 3);

        BudgetSnapshot s = watcher.refresh().get();
        assertThat(s.seesAllSessions()).isFalse();
        assertThat(s.bypassing()).isEqualTo(3);
        // application_name and user are visible to every role; the address and start time are not.
        assertThat(s.bypass()).singleElement().satisfies(g -> {
            assertThat(g.hidden()).isTrue();
            assertThat(g.clientAddress()).isNull();
            assertThat(g.oldestBackendStart()).isNull();
            assertThat(g.describe()).isEqualTo("app=leaky-job user=postgres addr=hidden (3)");
        });
        assertThat(messages(Level.WARN)).anySatisfy(w -> assertThat(w).contains(
                "watcher on 127.0.0.1:" + pg.getPort() + " may not see other roles' session details")
                .endsWith("GRANT pg_read_all_stats TO watcher to see them"));

        BudgetMonitor reader = monitor("reader", pg.getPort(), Set::of);
        // The watcher's own monitoring connection is a bypassing one from the reader's point of view.
        await().untilAsserted(() -> assertThat(reader.refresh().get().bypass()).extracting(BypassGroup::describe)
                .contains("app=leaky-job user=postgres addr=127.0.0.1 (3)",
                        "app=\"sluice budget monitor\" user=watcher addr=127.0.0.1 (1)"));
        assertThat(reader.snapshot().seesAllSessions()).isTrue();
    }

    @Test
    void unreachableServerGivesAnErrorAndNoBudget() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        List<BudgetSnapshot> seen = new CopyOnWriteArrayList<>();
        BudgetMonitor m = new BudgetMonitor(target("postgres", closedPort, null), BudgetHeadroom.DEFAULT,
                Duration.ofMillis(100), Duration.ofSeconds(2), Set::of, seen::add);
        monitors.add(m);
        m.start();
        await().until(() -> seen.size() >= 3); // it keeps trying on schedule

        BudgetSnapshot s = m.snapshot();
        assertThat(s.isKnown()).isFalse();
        assertThat(s.budget()).isEmpty();
        assertThat(s.excess(1000)).isZero();
        assertThat(s.lastError()).contains("refused").contains("08001");
        assertThat(s.lastErrorAt()).isNotNull();
        assertThat(s.describe(s.lastErrorAt())).startsWith("127.0.0.1:" + closedPort + ": budget unknown (no reading "
                + "yet); last check failed 0s ago: Connection to 127.0.0.1:" + closedPort + " refused");
        // Logged once, not once per attempt.
        assertThat(messages(Level.WARN)).singleElement().asString()
                .startsWith("budget monitor: cannot read 127.0.0.1:" + closedPort + ": Connection to")
                .endsWith("; no budget is known for it yet");
    }

    @Test
    void wrongPasswordIsReportedOnce() throws Exception {
        BudgetMonitor m = new BudgetMonitor(target("pwuser", pg.getPort(), "wrong"), BudgetHeadroom.DEFAULT,
                Duration.ofSeconds(5), Duration.ofSeconds(5), Set::of, null);
        monitors.add(m);
        m.refresh().get();
        BudgetSnapshot s = m.refresh().get();
        assertThat(s.lastError()).contains("password authentication failed for user \"pwuser\"").contains("28P01");
        assertThat(messages(Level.WARN)).hasSize(1);

        BudgetMonitor right = new BudgetMonitor(target("pwuser", pg.getPort(), "right"), BudgetHeadroom.DEFAULT,
                Duration.ofSeconds(5), Duration.ofSeconds(5), Set::of, null);
        monitors.add(right);
        assertThat(right.refresh().get().isKnown()).isTrue();
    }

    @Test
    void keepsTheLastReadingWhileTheServerIsDownAndRecovers() throws Exception {
        try (EmbeddedPostgres other = EmbeddedPostgres.builder().setServerConfig("max_connections", "20").start()) {
            int port = other.getPort();
            BudgetMonitor m = monitor("postgres", port, Set::of);
            BudgetSnapshot good = m.refresh().get();
            assertThat(good.capacity().maxConnections()).isEqualTo(20);

            // Kill the monitor's session from the server side, as a restart or a DBA would.
            try (Connection c = superuserOn(port); Statement st = c.createStatement()) {
                st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        + "WHERE application_name = '" + BudgetMonitor.APPLICATION_NAME + "'");
            }
            BudgetSnapshot failed = m.refresh().get();
            assertThat(failed.isStale()).isTrue();
            assertThat(failed.capacity()).isEqualTo(good.capacity());
            assertThat(failed.takenAt()).isEqualTo(good.takenAt());
            assertThat(failed.describe(failed.lastErrorAt())).contains("(stale: read ");
            assertThat(messages(Level.WARN)).filteredOn(w -> w.startsWith("budget monitor: cannot read")).singleElement()
                    .asString().contains("keeping the reading from").contains("budget 15 = max_connections 20");

            // The next check reconnects.
            BudgetSnapshot again = m.refresh().get();
            assertThat(again.isStale()).isFalse();
            assertThat(again.takenAt()).isAfter(good.takenAt());
            assertThat(messages(Level.INFO)).anySatisfy(i -> assertThat(i).startsWith("budget monitor: reading 127.0.0.1:"
                    + port + " again after"));
            m.close();
        }
    }

    @Test
    void closeStopsTheScheduleAndReleasesTheSlot() throws Exception {
        BudgetMonitor m = monitor("reader", pg.getPort(), Set::of);
        m.start();
        await().until(() -> m.snapshot().isKnown());
        m.close();
        m.close(); // idempotent
        assertThat(m.refresh().get()).isSameAs(m.snapshot());
        try (Connection c = superuser("postgres"); Statement st = c.createStatement()) {
            await().untilAsserted(() -> {
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'");
                rs.next();
                assertThat(rs.getInt(1)).isZero();
            });
        }
        assertThat(messages(Level.WARN)).noneMatch(w -> w.startsWith("budget monitor: cannot read"));
    }

    // ---- helpers ----

    private BudgetMonitor monitor(String user, int port, Supplier<Set<Integer>> own) {
        BudgetMonitor m = new BudgetMonitor(target(user, port, null), BudgetHeadroom.DEFAULT, Duration.ofSeconds(5),
                Duration.ofSeconds(5), own, null);
        monitors.add(m);
        return m;
    }

    private static BudgetTarget target(String user, int port, String password) {
        return new BudgetTarget("127.0.0.1", port, "postgres", user, password, List.of("appdb"), "test");
    }

    /** A reading once connections of earlier tests (and their monitors) have left the server. */
    private static BudgetSnapshot settledWithoutBypass(BudgetMonitor m) {
        return await().until(() -> m.refresh().get(), s -> s.isKnown() && s.bypass().isEmpty());
    }

    private List<Connection> openDirect(String applicationName, int n) throws SQLException {
        List<Connection> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort()
                    + "/postgres?user=postgres&ApplicationName=" + applicationName);
            direct.add(c);
            opened.add(c);
        }
        return opened;
    }

    private void closeDirect() throws SQLException {
        for (Connection c : direct) {
            c.close();
        }
        direct.clear();
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static Connection superuser(String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db + "?user=postgres");
    }

    private static Connection superuserOn(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
    }

    private List<String> messages(Level level) {
        return logs.list.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }
}
