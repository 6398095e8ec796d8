import dev.sluice.server.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ResourceLeakDetector;
import java.net.InetSocketAddress;

/**
 * The floor under Sluice's CPU per transaction: a TCP relay on the same Netty, transport and event-loop
 * count as Sluice, that does nothing but copy bytes between each client and a PostgreSQL connection of its
 * own (one per client, opened when the client connects; no protocol, no pooling, no metrics). Whatever it
 * costs per transaction is what the I/O machinery costs before any of Sluice's logic, so
 * "Sluice - relay" is the price of Sluice's own work and "relay - PgBouncer" the price of the JVM and
 * Netty. A benchmark instrument only (bench/compare.sh with RELAY=1): never shipped, never a pooler.
 *
 * Usage: java -cp sluice.jar:DIR NettyRelay LISTEN_PORT POSTGRES_PORT
 */
public final class NettyRelay {
    public static void main(String[] args) throws Exception {
        int listenPort = Integer.parseInt(args[0]);
        int targetPort = Integer.parseInt(args[1]);
        // As Sluice's Main does: Netty's leak detector would otherwise record a stack trace for one buffer in 128.
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        Transport transport = Transport.choose(); // SLUICE_TRANSPORT / -Dsluice.transport, as for Sluice
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, transport.ioHandler()); // Sluice's default here
        try {
            run(group, transport, listenPort, targetPort);
        } finally {
            group.shutdownGracefully(); // also after a failed bind: the loop's thread would keep the JVM alive
        }
    }

    private static void run(EventLoopGroup group, Transport transport, int listenPort, int targetPort)
            throws InterruptedException {
        Channel listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true) // as Sluice: a restart beside TIME_WAIT sockets binds
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.AUTO_READ, false) // nothing is read until the server side is connected
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel client) {
                        Relay toServer = new Relay();
                        client.pipeline().addLast(toServer);
                        Relay toClient = new Relay();
                        toClient.peer = client;
                        new Bootstrap().group(client.eventLoop()).channel(transport.socketChannel())
                                .option(ChannelOption.TCP_NODELAY, true)
                                .handler(toClient)
                                .connect(new InetSocketAddress("127.0.0.1", targetPort))
                                .addListener((ChannelFutureListener) f -> {
                                    if (!f.isSuccess()) {
                                        client.close();
                                        return;
                                    }
                                    toServer.peer = f.channel();
                                    client.config().setAutoRead(true);
                                });
                    }
                })
                .bind("127.0.0.1", listenPort).sync().channel();
        System.out.println("relay listening on 127.0.0.1:" + listenPort + " -> 127.0.0.1:" + targetPort + " ("
                + transport.name() + ", 1 event loop)");
        listener.closeFuture().sync();
    }

    /** Writes what one side reads to the other; one flush per read burst, as Sluice does. */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        Channel peer;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            peer.write(msg, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer != null) {
                peer.close();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
