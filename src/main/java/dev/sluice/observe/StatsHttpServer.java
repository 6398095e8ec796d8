package dev.sluice.observe;

import dev.sluice.config.StatsListen;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// The stats listener: /metrics, /healthz, /readyz, the dashboard (/), its live feed (/events) and /api/*.
/**
 * Netty's HTTP codec rather than the JDK's com.sun.net.httpserver: Netty is already the proxy's I/O layer
 * (one dependency more, netty-codec-http, from the same BOM), and server-sent events are long-lived
 * streams; on Netty each open dashboard is a channel on one event loop, where the JDK server would hold a
 * thread per viewer. The listener has its own single-thread event loop, so scrapes and dashboards never
 * run on the proxy's loops. GET and HEAD only; no authentication, hence loopback by default.
 */
final class StatsHttpServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatsHttpServer.class);

    /** What /readyz answers: 200 or 503, and a body that says why. */
    record Readiness(boolean ready, String body) {}

    private final StatsListen listen;
    private final PrometheusRegistry registry;
    private final Supplier<Readiness> readiness;
    private final Supplier<String> state;
    private final Supplier<String> alertsJson;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup streams = new DefaultChannelGroup("sluice-events", GlobalEventExecutor.INSTANCE);
    private final byte[] dashboard;
    private Channel listener;

    StatsHttpServer(StatsListen listen, PrometheusRegistry registry, Supplier<Readiness> readiness,
            Supplier<String> state, Supplier<String> alertsJson) {
        this.listen = listen;
        this.registry = registry;
        this.readiness = readiness;
        this.state = state;
        this.alertsJson = alertsJson;
        this.dashboard = resource("dashboard.html");
    }

    /**
     * Binds; returns the port, or -1 when the default address is taken by another process (a warning: a
     * second Sluice on the host still starts). An explicitly configured address that cannot be bound fails.
     */
    int start() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192));
                        ch.pipeline().addLast(new HttpObjectAggregator(16 * 1024));
                        ch.pipeline().addLast(new Handler());
                    }
                });
        InetSocketAddress address = listen.allAddresses() ? new InetSocketAddress(listen.port())
                : new InetSocketAddress(listen.host(), listen.port());
        try {
            listener = b.bind(address).sync().channel();
        } catch (Exception e) {
            if (!listen.explicit() && (e instanceof BindException || e.getCause() instanceof BindException)) {
                log.warn("stats listener: {} is in use (another Sluice?); metrics, health checks and the dashboard "
                        + "are off for this instance; set stats_listen = HOST:PORT (or off) to choose", listen);
                return -1;
            }
            throw new IllegalStateException("stats_listen = " + listen + ": cannot listen: " + e.getMessage(), e);
        }
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        log.info("stats listening on http://{}:{}/ (metrics at /metrics, dashboard at /)",
                listen.allAddresses() ? "*" : listen.host().contains(":") ? "[" + listen.host() + "]" : listen.host(), port);
        return port;
    }

    /** Sends one server-sent event to every open /events stream; a viewer too slow to keep up skips it. */
    void publish(String event, String json) {
        if (streams.isEmpty()) {
            return;
        }
        byte[] msg = ("event: " + event + "\ndata: " + json + "\n\n").getBytes(StandardCharsets.UTF_8);
        for (Channel ch : streams) {
            if (ch.isWritable()) {
                ch.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(msg)));
            }
        }
    }

    int openStreams() {
        return streams.size();
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        streams.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                send(ctx, req, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", text("bad request\n"));
                return;
            }
            boolean head = req.method().equals(HttpMethod.HEAD);
            if (!req.method().equals(HttpMethod.GET) && !head) {
                send(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                        text("only GET and HEAD\n"));
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            switch (path) {
                case "/metrics" -> metrics(ctx, req);
                case "/healthz" -> send(ctx, req, HttpResponseStatus.OK, "text/plain; charset=utf-8", text("ok\n"));
                case "/readyz" -> {
                    Readiness r = readiness.get();
                    send(ctx, req, r.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "text/plain; charset=utf-8", text(r.body()));
                }
                case "/", "/dashboard" -> send(ctx, req, HttpResponseStatus.OK, "text/html; charset=utf-8",
                        Unpooled.wrappedBuffer(dashboard));
                case "/api/state" -> send(ctx, req, HttpResponseStatus.OK, "application/json", text(state.get()));
                case "/api/alerts" -> send(ctx, req, HttpResponseStatus.OK, "application/json", text(alertsJson.get()));
                case "/events" -> events(ctx, req);
                default -> send(ctx, req, HttpResponseStatus.NOT_FOUND, "text/plain; charset=utf-8",
                        text("not found; try /metrics, /healthz, /readyz, / (dashboard), /events, /api/state, "
                                + "/api/alerts\n"));
            }
        }

        private void metrics(ChannelHandlerContext ctx, FullHttpRequest req) {
            ByteBuf buf = ctx.alloc().buffer(16 * 1024);
            try (ByteBufOutputStream out = new ByteBufOutputStream(buf)) {
                writer.write(out, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
            } catch (IOException | RuntimeException e) {
                buf.release();
                log.error("metrics scrape failed", e);
                send(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                        text("scrape failed: " + e + "\n"));
                return;
            }
            send(ctx, req, HttpResponseStatus.OK, writer.getContentType(), buf);
        }

        /** A server-sent event stream: the current state at once, then every update the observer publishes. */
        private void events(ChannelHandlerContext ctx, FullHttpRequest req) {
            HttpResponse res = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            HttpUtil.setTransferEncodingChunked(res, true);
            ctx.write(res);
            if (req.method().equals(HttpMethod.HEAD)) {
                ctx.writeAndFlush(io.netty.handler.codec.http.LastHttpContent.EMPTY_LAST_CONTENT)
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
            String first = "retry: 2000\n\nevent: state\ndata: " + state.get() + "\n\n";
            ctx.writeAndFlush(new DefaultHttpContent(text(first)));
            streams.add(ctx.channel()); // removed by the group when the channel closes
        }

        private void send(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String type,
                ByteBuf body) {
            boolean head = req.method().equals(HttpMethod.HEAD);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    head ? Unpooled.EMPTY_BUFFER : body);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                    .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            if (head) {
                body.release();
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("stats listener: {}", cause.toString());
            ctx.close();
        }
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = StatsHttpServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }
}
