package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What Sluice needs of its transport when a client vanishes: a peer that closes (FIN) or resets (RST) the
 * connection after its last message must end the channel (channelInactive), or its session, and the server it
 * holds, would wait forever. Runs on every transport this machine has, as Transport sets it up, with no Sluice
 * code in between. On Netty 4.2.18's io_uring with multishot POLL_ADD (Netty's default) most resets went
 * unnoticed (18 of 100 seen here; 50 of 2,000 in a standalone run; every FIN was seen): Transport turns
 * multishot polls off, and this test is what shows that that is enough (docs/benchmarks.md, "io_uring").
 */
class TransportResetTest {
    private static final int CONNECTIONS = 200;

    @ParameterizedTest
    @ValueSource(strings = {"epoll", "io_uring", "nio"})
    void aPeerThatClosesOrResetsAfterItsLastMessageEndsTheChannel(String name) throws Exception {
        Transport t;
        try {
            t = Transport.choose(name);
        } catch (IllegalStateException notHere) {
            Assumptions.abort(name + " is not available here: " + notHere.getMessage());
            return;
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, t.ioHandler());
        AtomicInteger opened = new AtomicInteger();
        AtomicInteger ended = new AtomicInteger();
        try {
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    opened.incrementAndGet();
                                }

                                @Override
                                public void channelInactive(ChannelHandlerContext ctx) {
                                    ended.incrementAndGet();
                                }

                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ByteBuf b = (ByteBuf) msg;
                                    if (b.getByte(b.readerIndex()) == 'Q') {
                                        ctx.writeAndFlush(b); // a query gets an answer ...
                                    } else {
                                        b.release(); // ... a Parse/Bind without Sync gets none
                                    }
                                }

                                @Override
                                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                    ctx.close();
                                }
                            });
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            for (int i = 0; i < CONNECTIONS; i++) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    s.setSoTimeout(5000);
                    OutputStream out = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    byte[] q = "Qselect".getBytes(StandardCharsets.US_ASCII);
                    out.write(q);
                    assertThat(in.readNBytes(q.length)).isEqualTo(q);
                    out.write("Pparse-and-bind".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    if (i % 2 == 0) {
                        s.setSoLinger(true, 0); // reset, as a killed process's connection often is
                    }
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .untilAsserted(() -> assertThat(ended.get()).as("channels ended on %s", t.name())
                            .isEqualTo(CONNECTIONS));
            assertThat(opened.get()).isEqualTo(CONNECTIONS);
            server.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
        }
    }
}
