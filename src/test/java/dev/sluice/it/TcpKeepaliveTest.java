package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import jdk.net.ExtendedSocketOptions;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * tcp_keepalive, tcp_keepidle, tcp_keepintvl, tcp_keepcnt and tcp_user_timeout reach both of Sluice's sockets
 * of a session: the client's and the server connection's to PostgreSQL (PgBouncer applies them to both). Read
 * back from the kernel (getsockopt) on whichever transport runs the test (io_uring by default; epoll in the
 * epoll pass of `mvn verify`).
 */
class TcpKeepaliveTest {

    @Test
    void timingsReachTheClientAndTheServerSocket() throws Exception {
        try (SluiceHandle sluice = SluiceHandle.trust("transaction", 1, """
                tcp_keepidle = 77
                tcp_keepintvl = 11
                tcp_keepcnt = 4
                tcp_user_timeout = 9000
                """)) {
            try (Connection c = sluice.connect(); Statement st = c.createStatement()) {
                st.execute("SELECT 1");
                for (Channel ch : sockets(sluice)) {
                    assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).as(ch + " SO_KEEPALIVE").isTrue();
                    assertThat(ch.config().getOption(ChannelOption.TCP_NODELAY)).as(ch + " TCP_NODELAY").isTrue();
                    assertThat(keepIdle(ch)).as(ch + " TCP_KEEPIDLE").isEqualTo(77);
                    assertThat(keepInterval(ch)).as(ch + " TCP_KEEPINTVL").isEqualTo(11);
                    assertThat(keepCount(ch)).as(ch + " TCP_KEEPCNT").isEqualTo(4);
                    if (!(ch instanceof NioSocketChannel)) { // the JDK has no TCP_USER_TIMEOUT
                        assertThat(userTimeout(ch)).as(ch + " TCP_USER_TIMEOUT").isEqualTo(9000);
                    }
                }
            }
        }
    }

    @Test
    void tcpKeepaliveOffTurnsItOffOnBothSockets() throws Exception {
        try (SluiceHandle sluice = SluiceHandle.trust("transaction", 1, "tcp_keepalive = 0\n");
             Connection c = sluice.connect(); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
            for (Channel ch : sockets(sluice)) {
                assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).as(ch + " SO_KEEPALIVE").isFalse();
            }
        }
    }

    @Test
    void byDefaultKeepaliveIsOnWithTheSystemsTimings() throws Exception {
        // Through a stream: Files.readString trusts the size /proc reports and returned "7" of "7200" here.
        int systemIdle;
        try (var in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/tcp_keepalive_time"))) {
            systemIdle = Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip());
        }
        try (SluiceHandle sluice = SluiceHandle.trust("transaction", 1, "");
             Connection c = sluice.connect(); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
            for (Channel ch : sockets(sluice)) {
                assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).as(ch + " SO_KEEPALIVE").isTrue();
                assertThat(keepIdle(ch)).as(ch + " TCP_KEEPIDLE").isEqualTo(systemIdle);
            }
        }
    }

    /** The one client's socket and the one server connection's (idle again once the transaction ended). */
    private static List<Channel> sockets(SluiceHandle sluice) {
        Channel client = sluice.server().clients().iterator().next().channel();
        // The client can read its reply a moment before the server is back in the pool.
        Channel server = Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                () -> sluice.server().pools().snapshot().stream().flatMap(p -> p.idle().stream()).findFirst(),
                Optional::isPresent).orElseThrow().channel();
        return List.of(client, server);
    }

    private static int keepIdle(Channel ch) {
        return read(ch, IoUringChannelOption.TCP_KEEPIDLE, EpollChannelOption.TCP_KEEPIDLE,
                NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE));
    }

    private static int keepInterval(Channel ch) {
        return read(ch, IoUringChannelOption.TCP_KEEPINTVL, EpollChannelOption.TCP_KEEPINTVL,
                NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL));
    }

    private static int keepCount(Channel ch) {
        return read(ch, IoUringChannelOption.TCP_KEEPCNT, EpollChannelOption.TCP_KEEPCNT,
                NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT));
    }

    private static int userTimeout(Channel ch) {
        return read(ch, IoUringChannelOption.TCP_USER_TIMEOUT, EpollChannelOption.TCP_USER_TIMEOUT, null);
    }

    private static int read(Channel ch, ChannelOption<Integer> ioUring, ChannelOption<Integer> epoll,
                            ChannelOption<Integer> nio) {
        ChannelOption<Integer> o = ch instanceof IoUringSocketChannel ? ioUring
                : ch instanceof EpollSocketChannel ? epoll : nio;
        return ch.config().getOption(o);
    }
}
