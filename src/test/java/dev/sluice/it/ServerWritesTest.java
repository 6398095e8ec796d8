package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.backend.ServerConnection;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client's read burst reaches PostgreSQL in one write, also when its first frame is what leases the server
 * (transaction mode, no server held). Flushing at the lease sent a Bind alone and then Execute/Sync: two
 * socket writes and two wake-ups of the PostgreSQL backend per transaction (-M prepared / -M extended).
 * Counted on the one real server connection of a one-server pool, with raw protocol bytes sent in one write.
 */
class ServerWritesTest {
    static SluiceHandle sluice;
    static WriteCounter counter;

    /** Counts flushes that carry data on a server connection's channel: each is one write to the socket. */
    static final class WriteCounter extends ChannelOutboundHandlerAdapter {
        final AtomicInteger writes = new AtomicInteger();
        private boolean pending; // event loop only

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            pending = true;
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (pending) {
                pending = false;
                writes.incrementAndGet();
            }
            ctx.flush();
        }
    }

    @BeforeAll
    static void start() throws Exception {
        // One server, never checked or replaced during the test: every write counted is the client's.
        sluice = SluiceHandle.trust("transaction", 1, "server_check_delay = 3600\n");
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            c.query("SELECT 1").flush();
            assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
        }
        // The client can read its reply a moment before the server is back in the pool.
        ServerConnection server = Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                () -> sluice.server().pools().snapshot().stream().flatMap(p -> p.idle().stream()).toList(),
                idle -> idle.size() == 1).get(0);
        counter = new WriteCounter();
        server.channel().pipeline().addFirst("test-write-counter", counter);
    }

    @AfterAll
    static void stop() {
        sluice.close();
    }

    /** One step of a test that talks to Sluice and reads its replies. */
    interface Burst {
        void run() throws Exception;
    }

    /** Writes to PostgreSQL while {@code burst} is sent and its replies are read (after the client's login). */
    private static int writesFor(Burst burst) throws Exception {
        counter.writes.set(0);
        burst.run();
        return counter.writes.get();
    }

    @Test
    void unnamedParseBindExecuteSyncLeaveInOneWrite() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            assertThat(writesFor(() -> {
                c.extended("SELECT 42").flush();
                assertThat(c.readUntilReady(null)).isEqualTo("12DCZ");
            })).as("writes to PostgreSQL for one P/B/E/S burst").isEqualTo(1);
        }
    }

    @Test
    void bindOfANamedStatementLeavesInOneWriteWithItsParse() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            // Parse + Sync of a named statement is answered without a server (transaction mode).
            c.msg('P', RawClient.cstr("s_one_write"), RawClient.cstr("SELECT 7"), new byte[] {0, 0}).msg('S').flush();
            assertThat(c.readUntilReady(null)).isEqualTo("1Z");
            // Bind/Execute/Sync: Sluice injects the Parse on the server, then the renamed Bind, Execute, Sync.
            assertThat(writesFor(() -> {
                c.msg('B', RawClient.cstr(""), RawClient.cstr("s_one_write"), new byte[] {0, 0, 0, 0, 0, 0});
                c.msg('E', RawClient.cstr(""), new byte[] {0, 0, 0, 0});
                c.msg('S').flush();
                assertThat(c.readUntilReady(null)).isEqualTo("2DCZ");
            })).as("writes to PostgreSQL for one B/E/S burst").isEqualTo(1);
        }
    }

    @Test
    void pipelinedSimpleQueriesLeaveInOneWrite() throws Exception {
        try (RawClient c = new RawClient(sluice.port())) {
            c.login("postgres", "postgres");
            assertThat(writesFor(() -> {
                c.query("SELECT 1").query("SELECT 2").flush();
                assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
                assertThat(c.readUntilReady(null)).isEqualTo("TDCZ");
            })).as("writes to PostgreSQL for two pipelined queries").isEqualTo(1);
        }
    }
}
