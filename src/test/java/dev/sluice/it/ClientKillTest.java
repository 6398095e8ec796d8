package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.backend.ServerConnection;
import java.io.IOException;
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
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Clients killed at random points of a transaction, under load from several threads through a small
 * pool: sockets closed (FIN or RST) mid-BEGIN, mid-query, mid-pipeline, mid-result, mid-COPY, idle in a
 * transaction, holding locks and session state, and during login. Afterwards no server connection is
 * left in a transaction or running a query, no backend is orphaned, no advisory lock is held, SHOW POOLS
 * is back to idle within seconds, and the pool serves the next client. No server sees a reply arrive after
 * it was given back ("idle server connection sent unexpected message"): a server discarded mid-reply used to
 * lose its owner before it was marked closing, so the rest of the reply, read on its own event loop, looked
 * like a stray message (four to six times a run on io_uring).
 */
class ClientKillTest {
    private static final String DB = "killdb";
    private static final int SCENARIOS = 12;

    @BeforeAll
    static void createDatabase() throws Exception {
        try (Connection d = Postgres.direct()) {
            PoolHealth.createDatabase(d, DB);
        }
        try (Connection d = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + Postgres.port() + "/" + DB + "?user=postgres");
             Statement st = d.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS kill_t (client int, n int)");
        }
    }

    @ParameterizedTest(name = "{0} mode")
    @ValueSource(strings = {"transaction", "session"})
    void serversOfKilledClientsAreCleanedOrClosedAndThePoolReturnsToIdle(String mode) throws Exception {
        Logger serverLog = (Logger) LoggerFactory.getLogger(ServerConnection.class);
        ListAppender<ILoggingEvent> warnings = new ListAppender<>();
        warnings.start();
        serverLog.addAppender(warnings);
        try (SluiceHandle s = SluiceHandle.start(DB + " = host=127.0.0.1 port=${PGPORT} dbname=" + DB,
                "auth_type = trust\npool_mode = " + mode + "\ndefault_pool_size = 3\nadmin_users = admin\n", null);
             Console console = Console.open(s, "admin", null)) {
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger[] done = new AtomicInteger[SCENARIOS];
            for (int i = 0; i < SCENARIOS; i++) {
                done[i] = new AtomicInteger();
            }
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    Random rnd = new Random(id * 7919L + mode.hashCode());
                    while (System.nanoTime() < until) {
                        int scenario = rnd.nextInt(SCENARIOS);
                        try {
                            runScenario(s, id, scenario, rnd);
                            done[scenario].incrementAndGet();
                        } catch (Exception e) {
                            failures.add("client " + id + ", scenario " + scenario + ": " + e);
                        }
                    }
                }, "killer-" + id);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join(60_000);
            }
            assertThat(failures).as("clients that were not killed must be served normally").isEmpty();
            for (int i = 0; i < SCENARIOS; i++) {
                assertThat(done[i].get()).as("runs of scenario %d", i).isPositive();
            }
            PoolHealth.awaitIdle(console, Postgres::direct, DB, Duration.ofSeconds(5));
            try (Connection d = Postgres.direct(); Statement st = d.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                         + " WHERE a.datname = '" + DB + "' AND l.locktype = 'advisory'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("advisory locks left held by Sluice's servers").isZero();
            }
            assertThat(warnings.list).extracting(ILoggingEvent::getFormattedMessage)
                    .as("replies that reached a server after it was given back")
                    .noneMatch(m -> m.contains("sent unexpected message"));
            try (Connection c = s.connect(DB, "postgres", null); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM kill_t")) {
                assertThat(rs.next()).isTrue();
            }
        } finally {
            serverLog.detachAppender(warnings);
        }
    }

    /** One client's life, most often ended by an abrupt close somewhere in the middle. */
    private static void runScenario(SluiceHandle s, int id, int scenario, Random rnd) throws Exception {
        if (scenario == 11) {
            killPgjdbcInTransaction(s, id);
            return;
        }
        RawClient c = new RawClient(s.port());
        try {
            if (scenario == 10) {
                c.startup(196608, "user", "postgres", "database", DB); // killed during login
                return;
            }
            c.login("postgres", DB);
            switch (scenario) {
                case 0 -> c.query("BEGIN").flush(); // mid-BEGIN: closed before its reply
                case 1 -> { // mid-query, inside a transaction
                    expectOk(c, "BEGIN");
                    c.query("SELECT pg_sleep(0.3)").flush();
                    Thread.sleep(rnd.nextInt(100));
                }
                case 2 -> { // idle in transaction, with a row written
                    expectOk(c, "BEGIN");
                    expectOk(c, "INSERT INTO kill_t VALUES (" + id + ", 2)");
                }
                case 3 -> { // mid-pipeline: extended-protocol messages without their Sync
                    expectOk(c, "BEGIN");
                    c.msg('P', RawClient.cstr(""), RawClient.cstr("INSERT INTO kill_t VALUES (" + id + ", 3)"),
                            new byte[] {0, 0});
                    c.msg('B', RawClient.cstr(""), RawClient.cstr(""), new byte[] {0, 0, 0, 0, 0, 0});
                    c.msg('E', RawClient.cstr(""), new byte[] {0, 0, 0, 0}).flush();
                }
                case 4 -> { // a whole pipeline sent, closed before reading any result
                    c.query("BEGIN");
                    for (int i = 0; i < 3; i++) {
                        c.extended("INSERT INTO kill_t VALUES (" + id + ", 4)");
                    }
                    c.flush();
                }
                case 5 -> { // mid-result: a large result read only in part
                    c.query("SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g").flush();
                    for (int i = 0; i < 50; i++) {
                        c.read();
                    }
                }
                case 6 -> { // mid-COPY FROM STDIN
                    c.query("COPY kill_t FROM STDIN").flush();
                    RawClient.Msg m = c.read();
                    if (m.type() != 'G') {
                        throw new IOException("expected CopyInResponse, got " + m.type());
                    }
                    c.msg('d', (id + "\t6\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)).flush();
                }
                case 7 -> { // session state and a session-level lock, then gone
                    expectOk(c, "SELECT pg_advisory_lock(" + (9000 + id) + ")");
                    expectOk(c, "LISTEN kill_channel");
                    expectOk(c, "SET work_mem = '1234kB'");
                }
                case 8 -> { // a transaction-level lock held, killed idle in transaction
                    expectOk(c, "BEGIN");
                    expectOk(c, "SELECT pg_advisory_xact_lock(" + (9100 + id) + ")");
                }
                default -> { // a well-behaved client: the control group
                    expectOk(c, "BEGIN");
                    expectOk(c, "INSERT INTO kill_t VALUES (" + id + ", 9)");
                    expectOk(c, "COMMIT");
                    c.msg('X').flush();
                }
            }
        } finally {
            if (rnd.nextBoolean()) {
                c.socket.setSoLinger(true, 0); // RST instead of FIN
            }
            c.close();
        }
    }

    private static void expectOk(RawClient c, String sql) throws IOException {
        c.query(sql).flush();
        StringBuilder errors = new StringBuilder();
        c.readUntilReady(errors);
        if (errors.length() > 0) {
            throw new IOException(sql + ": " + errors);
        }
    }

    private static void killPgjdbcInTransaction(SluiceHandle s, int id) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "0");
        Connection c = s.connect(DB, p);
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("INSERT INTO kill_t VALUES (" + id + ", 11)");
        }
        ExecutorService ex = Executors.newSingleThreadExecutor();
        c.abort(ex); // closes the socket, no Terminate
        ex.shutdown();
    }
}
