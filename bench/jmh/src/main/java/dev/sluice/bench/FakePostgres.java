package dev.sluice.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Just enough of a PostgreSQL server (trust authentication) for Sluice's pool to open real server
 * connections in-process: answers a StartupMessage with AuthenticationOk, two ParameterStatus,
 * BackendKeyData and ReadyForQuery, closes on Terminate and ignores everything else. Used only to put
 * idle servers in a pool; the benchmarks never send queries through it.
 */
public final class FakePostgres implements AutoCloseable {
    private final Channel server;

    public FakePostgres(EventLoopGroup group) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new Conversation());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    private static final class Conversation extends ByteToMessageDecoder {
        private boolean started;

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (true) {
                if (!started) {
                    if (in.readableBytes() < 4 || in.readableBytes() < in.getInt(in.readerIndex())) {
                        return;
                    }
                    in.skipBytes(in.getInt(in.readerIndex()));
                    started = true;
                    ByteBuf r = ctx.alloc().buffer();
                    r.writeByte('R').writeInt(8).writeInt(0); // AuthenticationOk
                    parameterStatus(r, "server_version", "15.0");
                    parameterStatus(r, "client_encoding", "UTF8");
                    r.writeByte('K').writeInt(12).writeInt(4242).writeInt(171717); // BackendKeyData
                    r.writeByte('Z').writeInt(5).writeByte('I'); // ReadyForQuery
                    ctx.writeAndFlush(r);
                    continue;
                }
                if (in.readableBytes() < 5 || in.readableBytes() < 1 + in.getInt(in.readerIndex() + 1)) {
                    return;
                }
                byte type = in.getByte(in.readerIndex());
                in.skipBytes(1 + in.getInt(in.readerIndex() + 1));
                if (type == 'X') { // Terminate
                    ctx.close();
                    return;
                }
            }
        }

        private static void parameterStatus(ByteBuf r, String name, String value) {
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            byte[] v = value.getBytes(StandardCharsets.US_ASCII);
            r.writeByte('S').writeInt(4 + n.length + 1 + v.length + 1).writeBytes(n).writeByte(0).writeBytes(v).writeByte(0);
        }
    }
}
