package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Slow and abusive clients, with raw protocol bytes against a real Sluice and PostgreSQL: each gets a clear
 * error or a clean close (client_login_timeout, max_startup_connections, auth_failure_delay,
 * auth_failure_limit, oversized/truncated messages, garbage after SSLRequest), and a well-behaved pgjdbc
 * client keeps working at full speed while they hammer Sluice.
 */
class AbusiveClientsTest {
    private static final String DB = "postgres = host=127.0.0.1 port=${PGPORT} dbname=postgres";
    private static final String USERS = "\"md5user\" \"md5pass\"\n";

    @Test
    void clientThatStallsHalfwayThroughItsStartupPacketIsClosedAtClientLoginTimeout() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "client_login_timeout = 1");
             RawClient c = new RawClient(s.port())) {
            c.out.writeInt(40); // a StartupMessage of 40 bytes, of which only 7 ever come
            c.out.writeInt(196608);
            c.out.write(new byte[] {'u', 's', 'e'});
            c.flush();
            long start = System.nanoTime();
            RawClient.Msg m = c.read();
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.fields().get('C')).isEqualTo("08006");
            assertThat(m.fields().get('M')).contains("client_login_timeout");
            assertThat(c.closedByPeer()).isTrue();
            assertThat(waitedMs).isBetween(500L, 5_000L);
            await().atMost(Duration.ofSeconds(5)).until(() -> s.server().loginGuard().inStartup() == 0);
        }
    }

    @Test
    void connectionsBeyondMaxStartupConnectionsAreRefusedWith53300() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "max_startup_connections = 6")) {
            List<Socket> stalled = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    stalled.add(silentSocket(s, "127.0.0.1")); // connects, never says a word
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> s.server().loginGuard().inStartup() == 3);
                // one address may hold half of the slots: the 4th from 127.0.0.1 is refused ...
                assertRefusedInStartup(s, "127.0.0.1", "too many connections in startup from 127.0.0.1");
                // ... while other addresses still get in, up to the cap
                for (int i = 0; i < 3; i++) {
                    stalled.add(silentSocket(s, "127.0.0.2"));
                }
                await().atMost(Duration.ofSeconds(5)).until(() -> s.server().loginGuard().inStartup() == 6);
                assertRefusedInStartup(s, "127.0.0.4", "too many connections in startup (max_startup_connections=6)");
                // pgjdbc is told the same, as a proper SQLException
                assertThatThrownBy(() -> connectFrom(s, "127.0.0.4", "postgres", "").close())
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
                stalled.remove(0).close();
                await().atMost(Duration.ofSeconds(5)).until(() -> s.server().loginGuard().inStartup() == 5);
                assertThat(selectOne(s.connect("postgres", "postgres", null))).isEqualTo(1);
                // logged-in clients do not count: the cap is on logins in flight, not on connections
                try (Connection a = s.connect("postgres", "postgres", null);
                     Connection b = s.connect("postgres", "postgres", null)) {
                    assertThat(selectOne(a) + selectOne(b)).isEqualTo(2);
                }
            } finally {
                for (Socket k : stalled) {
                    k.close();
                }
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> s.server().loginGuard().inStartup() == 0);
        }
    }

    private static Socket silentSocket(SluiceHandle s, String from) throws IOException {
        return new Socket(java.net.InetAddress.getByName("127.0.0.1"), s.port(), java.net.InetAddress.getByName(from), 0);
    }

    /** A raw client from {@code from} is answered 53300 before it sends anything, then closed. */
    private static void assertRefusedInStartup(SluiceHandle s, String from, String message) throws IOException {
        try (Socket k = silentSocket(s, from)) {
            k.setSoTimeout(10_000);
            java.io.DataInputStream in = new java.io.DataInputStream(k.getInputStream());
            assertThat((char) in.readUnsignedByte()).isEqualTo('E');
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            RawClient.Msg m = new RawClient.Msg('E', body);
            assertThat(m.fields().get('C')).isEqualTo("53300");
            assertThat(m.fields().get('M')).contains(message);
            assertThat(in.read()).isEqualTo(-1); // closed
        }
    }

    @Test
    void failedLoginIsAnsweredAfterAuthFailureDelayWithoutHoldingUpOthers() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = transaction\n"
                + "auth_failure_delay = 2\nauth_failure_limit = 0", USERS);
             Connection good = s.connect("postgres", "md5user", "md5pass")) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Long>> failures = new ArrayList<>();
                for (int i = 0; i < 4; i++) { // on both event loops, surely one shared with `good`
                    failures.add(pool.submit(() -> {
                        long t0 = System.nanoTime();
                        assertThatThrownBy(() -> s.connect("postgres", "md5user", "not-it").close())
                                .isInstanceOf(SQLException.class)
                                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
                        return (System.nanoTime() - t0) / 1_000_000;
                    }));
                }
                Thread.sleep(300); // the failed logins are now waiting out their delay
                long worst = 0;
                for (int i = 0; i < 50; i++) {
                    long t0 = System.nanoTime();
                    assertThat(selectOne(good)).isEqualTo(1);
                    worst = Math.max(worst, (System.nanoTime() - t0) / 1_000_000);
                }
                assertThat(worst).as("slowest query while failed logins wait (ms)").isLessThan(1_000);
                for (Future<Long> f : failures) {
                    assertThat(f.get(20, TimeUnit.SECONDS)).as("failed login answered after (ms)")
                            .isGreaterThanOrEqualTo(1_900);
                }
                // the right password is not delayed
                long t0 = System.nanoTime();
                assertThat(selectOne(s.connect("postgres", "md5user", "md5pass"))).isEqualTo(1);
                assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_500);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void addressWithTooManyFailedLoginsIsRefusedQuicklyForAWhile() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = transaction\n"
                + "auth_failure_delay = 0\nauth_failure_limit = 3\nauth_failure_window = 3", USERS)) {
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> s.connect("postgres", "md5user", "guess").close())
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            }
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> s.connect("postgres", "md5user", "md5pass").close()) // even the right one
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("28000");
                        assertThat(e.getMessage()).contains("too many failed logins from 127.0.0.1")
                                .contains("auth_failure_limit=3").contains("try again in");
                    });
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1_000);
            // another address is not affected
            assertThat(selectOne(connectFrom(s, "127.0.0.2", "md5user", "md5pass"))).isEqualTo(1);
            // once the failures have left the window, the address may log in again
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> selectOne(s.connect("postgres", "md5user", "md5pass")) == 1);
        }
    }

    @Test
    void garbageAfterSslRequestGetsAProtocolErrorAndAClose() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "");
             RawClient c = new RawClient(s.port())) {
            c.untyped(80877103);
            assertThat(c.in.readUnsignedByte()).isEqualTo('N');
            c.out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            c.flush();
            RawClient.Msg m = c.read();
            assertThat(m.type()).isEqualTo('E');
            assertThat(m.fields().get('C')).isEqualTo("08P01");
            assertThat(m.fields().get('M')).contains("invalid length of startup packet");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void startupLengthOf2GiBAndEmptyCloseMessageAreRefusedCleanly() throws Exception {
        try (SluiceHandle s = SluiceHandle.trust("transaction", 2, "")) {
            try (RawClient c = new RawClient(s.port())) {
                c.out.writeInt(Integer.MAX_VALUE); // refused from the 4 length bytes, nothing allocated for it
                c.out.writeInt(196608);
                c.flush();
                RawClient.Msg m = c.read();
                assertThat(m.fields().get('C')).isEqualTo("08P01");
                assertThat(m.fields().get('M')).contains("invalid length of startup packet: 2147483647");
                assertThat(c.closedByPeer()).isTrue();
            }
            // Found while writing ClientMessageFuzzTest: a Close with no body used to fail as an internal error
            // (XX000, IndexOutOfBoundsException logged as unexpected); it is a protocol violation (08P01).
            try (RawClient c = new RawClient(s.port())) {
                c.login("postgres", "postgres");
                c.msg('C').flush();
                RawClient.Msg m = c.read();
                assertThat(m.fields().get('C')).isEqualTo("08P01");
                assertThat(m.fields().get('M')).contains("invalid Close('C') message");
                assertThat(c.closedByPeer()).isTrue();
            }
        }
    }

    /**
     * The whole gallery at once, for several seconds: from 127.0.0.1 stalled connections, half startup
     * packets, garbage after SSLRequest, oversized and truncated messages after a real login, a flood of
     * connects at the startup cap; from 127.0.0.3-62 wrong passwords (delayed, then each address refused). Meanwhile a pgjdbc client from 127.0.0.2, connected before and reconnecting
     * during, runs its queries: every one succeeds and none waits on the abusers.
     */
    @Test
    void wellBehavedClientKeepsFullSpeedWhileAbusiveClientsHammer() throws Exception {
        try (SluiceHandle s = SluiceHandle.start(DB, "auth_type = md5\npool_mode = transaction\n"
                + "client_login_timeout = 2\nmax_startup_connections = 40\nauth_failure_delay = 1\n"
                + "auth_failure_limit = 5\nauth_failure_window = 60\nmax_client_message_size = 64kB\n"
                + "max_client_conn = 500", USERS)) {
            Connection good = connectFrom(s, "127.0.0.2", "md5user", "md5pass");
            worstOf(good, 100, new long[1]); // warm up
            long t0 = System.nanoTime();
            worstOf(good, 300, new long[1]);
            double baselinePerSecond = 300 / ((System.nanoTime() - t0) / 1e9);

            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger abuses = new AtomicInteger();
            ExecutorService abusers = Executors.newFixedThreadPool(7);
            List<Future<?>> running = new ArrayList<>();
            running.add(abusers.submit(() -> loop(stop, abuses, () -> { // stall in startup, half a packet
                try (RawClient c = new RawClient(s.port())) {
                    c.out.writeInt(100);
                    c.out.writeShort(3);
                    c.flush();
                    Thread.sleep(300);
                }
            })));
            running.add(abusers.submit(() -> loop(stop, abuses, () -> { // garbage after SSLRequest
                try (RawClient c = new RawClient(s.port())) {
                    c.untyped(80877103);
                    c.in.readUnsignedByte();
                    c.out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0, 1, 0, 1, (byte) 0xfc, 3, 3});
                    c.flush();
                    c.closedByPeer();
                }
            })));
            running.add(abusers.submit(() -> loop(stop, abuses, () -> { // oversized message after a real login
                try (RawClient c = new RawClient(s.port())) {
                    c.loginMd5("md5user", "md5pass", "postgres");
                    c.out.writeByte('Q');
                    c.out.writeInt(Integer.MAX_VALUE);
                    c.out.write(new byte[512]);
                    c.flush();
                    c.closedByPeer();
                } catch (IOException refused) {
                    // refused at the startup cap or for this address's failures: also what we want
                }
            })));
            running.add(abusers.submit(() -> loop(stop, abuses, () -> { // truncated message, then vanish
                try (RawClient c = new RawClient(s.port())) {
                    c.loginMd5("md5user", "md5pass", "postgres");
                    c.out.writeByte('P');
                    c.out.writeInt(5000);
                    c.out.write(new byte[100]);
                    c.flush();
                } catch (IOException refused) {
                    // as above
                }
            })));
            for (int t = 0; t < 2; t++) {
                running.add(abusers.submit(() -> loop(stop, abuses, () -> { // wrong passwords, from many addresses
                    String from = "127.0.0." + (3 + abuses.get() % 60);
                    try {
                        connectFrom(s, from, "md5user", "guess-" + abuses.get()).close();
                    } catch (SQLException expected) {
                        // 28P01 after auth_failure_delay; 28000 at once once the address has failed 5 times
                    }
                })));
            }
            running.add(abusers.submit(() -> loop(stop, abuses, () -> { // connect flood: many silent sockets
                List<Socket> flood = new ArrayList<>();
                try {
                    for (int i = 0; i < 60; i++) {
                        flood.add(new Socket("127.0.0.1", s.port()));
                    }
                    Thread.sleep(200);
                } finally {
                    for (Socket k : flood) {
                        k.close();
                    }
                }
            })));

            long[] slow = new long[1];
            long worst = 0;
            int queries = 0;
            long start = System.nanoTime();
            long until = start + TimeUnit.SECONDS.toNanos(6);
            while (System.nanoTime() < until) {
                worst = Math.max(worst, worstOf(good, 50, slow));
                queries += 50;
            }
            double underAbusePerSecond = queries / ((System.nanoTime() - start) / 1e9);
            // a new login of the good client, from its own address, while the hammering goes on
            Connection again = connectFrom(s, "127.0.0.2", "md5user", "md5pass");
            assertThat(selectOne(again)).isEqualTo(1);
            again.close();
            stop.set(true);
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            abusers.shutdownNow();
            assertThat(abuses.get()).as("abusive connections made").isGreaterThan(30);
            assertThat(queries).isGreaterThan(0);
            // A blocked event loop (an auth delay that sleeps, a parser spinning on a bad length) stalls the good
            // client for whole seconds, again and again: with a sleeping auth_failure_delay it cannot even log in
            // again. The abusers run in this JVM on the same 2 cores, so some slowdown is only shared CPU; the
            // bounds leave room for that (and for a machine shared with other jobs) and still catch a stall.
            assertThat(underAbusePerSecond).as("queries/s under abuse vs %.0f/s before", baselinePerSecond)
                    .isGreaterThan(baselinePerSecond / 5);
            assertThat(slow[0]).as("queries slower than 500 ms, of %d", queries).isLessThanOrEqualTo(queries / 20);
            assertThat(worst).as("slowest query under abuse (ms)").isLessThan(5_000);
            assertThat(selectOne(good)).isEqualTo(1);
            good.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> s.server().loginGuard().inStartup() == 0);
        }
    }

    private interface Abuse {
        void run() throws Exception;
    }

    /**
     * Repeats {@code abuse} until stopped, 20 ms apart: hundreds of abusive connections a second from seven
     * threads, without the test's own threads simply taking all CPU from Sluice on a 2-core machine.
     */
    private static void loop(AtomicBoolean stop, AtomicInteger count, Abuse abuse) {
        while (!stop.get()) {
            try {
                abuse.run();
            } catch (Exception ignored) {
                // a refused or reset connection is the expected outcome of abuse
            }
            count.incrementAndGet();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Runs {@code n} queries; returns the slowest (ms) and adds those over 500 ms to {@code slow[0]}. */
    private static long worstOf(Connection c, int n, long[] slow) throws SQLException {
        long worst = 0;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            assertThat(selectOne(c)).isEqualTo(1);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            worst = Math.max(worst, ms);
            if (ms > 500) {
                slow[0]++;
            }
        }
        return worst;
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** A pgjdbc connection whose socket is bound to {@code localAddress} (another loopback address). */
    private static Connection connectFrom(SluiceHandle s, String localAddress, String user, String password)
            throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("localSocketAddress", localAddress);
        return s.connect("postgres", p);
    }
}
