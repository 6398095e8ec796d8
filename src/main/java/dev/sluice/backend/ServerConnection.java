package dev.sluice.backend;

import dev.sluice.auth.AuthException;
import dev.sluice.auth.Md5Auth;
import dev.sluice.auth.ScramClientExchange;
import dev.sluice.auth.StoredSecret;
import dev.sluice.pool.DisconnectReason;
import dev.sluice.protocol.BackendMessages.BackendKeyData;
import dev.sluice.protocol.BackendMessages.ParameterStatus;
import dev.sluice.protocol.BackendMessages.ReadyForQuery;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.FrameDecoder;
import dev.sluice.protocol.FrontendMessages;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.OutboundBatch;
import dev.sluice.protocol.PgMessage;
import dev.sluice.protocol.SqlState;
import dev.sluice.protocol.StartupPacket;
import dev.sluice.protocol.StartupPacket.StartupMessage;
import dev.sluice.protocol.Wire;
import dev.sluice.server.TcpTuning;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection from Sluice to PostgreSQL: connect, log in (trust, cleartext, md5, SCRAM-SHA-256),
 * remember the server's parameters and backend key, then either forward its frames to the leased client
 * session, run an internal query (parameter sync, ROLLBACK, server_reset_query), or sit idle in its pool.
 */
public final class ServerConnection {
    private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);
    private static final AtomicLong IDS = new AtomicLong();

    /** Result of an internal query: the first error the server sent, or null when it succeeded. */
    public interface InternalDone {
        void done(ServerConnection server, ErrorResponse errorOrNull);
    }

    private final long id = IDS.incrementAndGet();
    private final ServerLogin login;
    private final Object poolTag;
    private final Channel channel;
    /** What the owner wrote since its last flush (see {@link #write}). */
    private final OutboundBatch toServer;
    private final long createdNanos = System.nanoTime();
    /** Wall-clock time of the connect, for SHOW SERVERS. */
    private final long createdAtMillis = System.currentTimeMillis();
    /** RECONNECT or a changed [databases] entry: close instead of reusing when next released. */
    private volatile boolean closeNeeded;
    /** GUC_REPORT parameters as the server last reported them (ParameterStatus). */
    private final Map<String, String> parameters = new ConcurrentHashMap<>();
    /** Non-reported parameters Sluice set on this server for a client (e.g. search_path from startup); owner loop only. */
    private final Map<String, String> applied = new LinkedHashMap<>();
    /**
     * Server-side names of the shared prepared statements this server has (transaction mode), least
     * recently used first; only the owning session's loop touches it.
     */
    private final LinkedHashMap<String, Boolean> preparedStatements = new LinkedHashMap<>(32, 0.75f, true);
    private volatile BackendKeyData backendKey;
    private volatile ServerLink owner;
    private volatile InternalQuery internal;
    private volatile boolean closing;
    private volatile DisconnectReason closeReason;
    private volatile long idleSinceNanos = System.nanoTime();
    private volatile Consumer<ServerConnection> closeListener = s -> { };

    private ServerConnection(ServerLogin login, Object poolTag, Channel channel) {
        this.login = login;
        this.poolTag = poolTag;
        this.channel = channel;
        this.toServer = new OutboundBatch(channel);
    }

    /**
     * Opens and logs in a server connection on {@code loop}. The promise completes once the server sent
     * its first ReadyForQuery, or fails with a {@link ServerLoginException} carrying an ErrorResponse
     * suitable to relay to waiting clients.
     */
    public static Future<ServerConnection> connect(EventLoop loop, Class<? extends Channel> channelClass,
                                                   ServerLogin login, Object poolTag) {
        Promise<ServerConnection> promise = loop.newPromise();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.AUTO_READ, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, login.connectTimeout().toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        TcpTuning.apply(ch, login.tcpKeepalive()); // keepalive; TCP_NODELAY is Netty's default
                        ServerConnection conn = new ServerConnection(login, poolTag, ch);
                        // TLS is never used over a Unix socket (libpq and PgBouncer do not either).
                        if (login.tls().enabled() && login.address() instanceof java.net.InetSocketAddress) {
                            ch.pipeline().addLast("tls-negotiation", new ServerTlsNegotiation(login, error -> {
                                promise.tryFailure(new ServerLoginException(error));
                                ch.close();
                            }));
                        }
                        ch.pipeline().addLast("frames", new FrameDecoder(false, 0, login.maxMessageSize()));
                        ch.pipeline().addLast("server", conn.new Handler(promise));
                    }
                });
        ChannelFuture cf = b.connect(login.address());
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new ServerLoginException(ErrorResponse.error("FATAL",
                        SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                        "sluice: could not connect to server " + login.description() + ": " + rootMessage(f.cause()),
                        null, "Check that PostgreSQL is running and that host/port in [databases] are right.")));
            }
        });
        // The whole login, not just the TCP connect, must finish within server_connect_timeout.
        ScheduledFuture<?> timer = loop.schedule(() -> {
            if (promise.tryFailure(new ServerLoginException(ErrorResponse.error("FATAL", SqlState.CONNECTION_FAILURE,
                    "sluice: server " + login.description() + " did not complete login within "
                            + login.connectTimeout().toMillis() + " ms (server_connect_timeout)", null, null)))) {
                cf.channel().close();
            }
        }, login.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(f -> timer.cancel(false));
        return promise;
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    public long id() {
        return id;
    }

    public Channel channel() {
        return channel;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public Object poolTag() {
        return poolTag;
    }

    public ServerLogin login() {
        return login;
    }

    public Map<String, String> parameters() {
        return parameters;
    }

    /** Parameters Sluice set that the server does not report; only the owning session's loop touches it. */
    public Map<String, String> applied() {
        return applied;
    }

    public LinkedHashMap<String, Boolean> preparedStatements() {
        return preparedStatements;
    }

    public BackendKeyData backendKey() {
        return backendKey;
    }

    public ServerLink owner() {
        return owner;
    }

    /** Set by the pool (under its lock) when leasing and releasing. */
    public void setOwner(ServerLink owner) {
        this.owner = owner;
    }

    public long createdNanos() {
        return createdNanos;
    }

    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    public long createdAtMillis() {
        return createdAtMillis;
    }

    public boolean closeNeeded() {
        return closeNeeded;
    }

    public void markCloseNeeded() {
        closeNeeded = true;
    }

    public void markIdle() {
        idleSinceNanos = System.nanoTime();
    }

    public boolean isUsable() {
        return !closing && channel.isActive();
    }

    public boolean isWritable() {
        return channel.isWritable();
    }

    public void setCloseListener(Consumer<ServerConnection> listener) {
        this.closeListener = listener;
    }

    public DisconnectReason closeReason() {
        return closeReason;
    }

    /** Closes the connection politely (Terminate) and logs the stable reason. */
    public void close(DisconnectReason reason) {
        if (closing) {
            return;
        }
        closing = true;
        closeReason = reason;
        log.info("closing server connection S-{} to {} (user {}): reason={}", id, login.description(), login.user(),
                reason.code());
        toServer.discard(); // what an owner wrote but did not flush is not for this server any more
        if (channel.isActive()) {
            // Terminate, then close once it has left; bounded, so a server that stopped reading cannot keep
            // the socket open (it used to wait for the write forever).
            channel.write(PgMessage.encodeAll(channel.alloc(), new FrontendMessages.Terminate()), channel.voidPromise());
        }
        dev.sluice.protocol.Closing.afterWrites(channel);
    }

    /**
     * Asks PostgreSQL to cancel whatever this connection is running, over a new connection carrying the
     * backend's key (the protocol's CancelRequest). Fire and forget: the outcome shows on this connection.
     */
    public void cancelQuery() {
        BackendKeyData key = backendKey;
        if (key == null) {
            return;
        }
        sendCancel(new StartupPacket.CancelRequest(key.processId(), key.secretKey()), 2);
    }

    /**
     * Under load a cancel connection occasionally fails to connect (seen in ClientKillTest: epoll reports
     * the socket not yet connected); one more attempt, because a lost cancel leaves PostgreSQL running the
     * abandoned query until it next writes to the closed socket. The cancel key goes over TLS too when
     * server_tls_sslmode asks for it: it is as good as a password for cancelling this backend's queries.
     */
    private void sendCancel(StartupPacket.CancelRequest req, int attempts) {
        boolean tls = login.tls().enabled() && login.address() instanceof java.net.InetSocketAddress;
        new Bootstrap().group(channel.eventLoop()).channel(channel.getClass())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls) {
                            ch.pipeline().addLast(new ServerTlsNegotiation(login, error -> {
                                log.warn("could not send a cancel request for S-{}: {}", id, error.message());
                                ch.close();
                            }));
                        }
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                // Fired once TLS (if any) is settled; PostgreSQL closes after reading it.
                                ctx.writeAndFlush(PgMessage.encodeAll(ctx.alloc(), req))
                                        .addListener(ChannelFutureListener.CLOSE);
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                // A failed connect can surface here too (epoll); the connect listener handles it.
                                ctx.close();
                            }
                        });
                    }
                })
                .connect(login.address())
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        return; // the handler above sends the request once the connection is ready
                    }
                    if (attempts > 1) {
                        sendCancel(req, attempts - 1);
                    } else {
                        log.warn("could not send a cancel request for S-{} to {}: {}", id, login.description(),
                                rootMessage(f.cause()));
                    }
                });
    }

    /** Cancels the running query, then closes: for a server abandoned mid-query, so PostgreSQL stops working on it. */
    public void cancelAndClose(DisconnectReason reason) {
        cancelQuery();
        close(reason);
    }

    /**
     * Writes a frame the owning client sent (ownership of the buffer passes here). Frames are collected
     * until {@link #flush()}, which the owner calls at the end of every read burst, so a pipeline of
     * small messages (Parse/Bind/Describe/Execute/Sync) goes out as one buffer. Owner's event loop only.
     */
    public void write(ByteBuf frame) {
        toServer.add(frame);
    }

    public void flush() {
        toServer.writeCollected();
        channel.flush();
    }

    public void setAutoRead(boolean on) {
        if (channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }

    /**
     * Runs {@code sql} as a simple Query whose results nobody sees (parameter sync, ROLLBACK, reset,
     * server_check_query). ParameterStatus updates are recorded. {@code done} runs on this server's event
     * loop. A server that does not answer within {@code timeout} (query_timeout; zero: no limit) is closed
     * and {@code done} gets an error: no client is waiting on a cleanup, so without a bound a server that
     * hung there would stay leased, unseen, forever.
     */
    public void runInternal(String sql, java.time.Duration timeout, InternalDone done) {
        InternalQuery q = new InternalQuery(done);
        internal = q;
        if (!channel.isActive()) {
            internal = null;
            done.done(this, lostError());
            return;
        }
        toServer.writeCollected(); // whatever the owner wrote goes first
        channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), new FrontendMessages.Query(sql)));
        if (!timeout.isZero()) {
            q.timer = channel.eventLoop().schedule(() -> internalTimedOut(q, sql, timeout), timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private void internalTimedOut(InternalQuery q, String sql, java.time.Duration timeout) {
        if (internal != q) {
            return; // answered meanwhile
        }
        internal = null;
        log.warn("server connection S-{} to {} did not answer \"{}\" within {} ms (query_timeout)", id,
                login.description(), sql, timeout.toMillis());
        close(DisconnectReason.QUERY_TIMEOUT);
        q.done.done(this, ErrorResponse.error("FATAL", SqlState.CONNECTION_FAILURE, "sluice: server "
                + login.description() + " did not answer within " + timeout.toMillis() + " ms (query_timeout)",
                null, null));
    }

    private ErrorResponse lostError() {
        return ErrorResponse.error("FATAL", SqlState.CONNECTION_FAILURE,
                "sluice: server connection to " + login.description() + " was lost", null, null);
    }

    @Override
    public String toString() {
        return "S-" + id + "(" + login.description() + " user=" + login.user() + ")";
    }

    /** State of one internal query: the first error seen, until ReadyForQuery. */
    private static final class InternalQuery {
        final InternalDone done;
        ErrorResponse error;
        ScheduledFuture<?> timer;

        InternalQuery(InternalDone done) {
            this.done = done;
        }
    }

    /** The channel handler: login conversation first, then routing of every frame. */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private final Promise<ServerConnection> loginPromise;
        private boolean loggedIn;
        private ScramClientExchange scram;
        /** Frames for the owner collected during the current read burst; delivered at channelReadComplete. */
        private List<ByteBuf> batch;
        private ServerLink batchOwner;

        Handler(Promise<ServerConnection> loginPromise) {
            this.loginPromise = loginPromise;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Map<String, String> params = new LinkedHashMap<>();
            params.put("user", login.user());
            params.put("database", login.database());
            params.putAll(login.startupParameters());
            ctx.writeAndFlush(PgMessage.encodeAll(ctx.alloc(), new StartupMessage(MessageType.PROTOCOL_3_0, params)));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            if (!loggedIn) {
                try {
                    onLoginFrame(ctx, frame);
                } finally {
                    frame.release();
                }
                return;
            }
            InternalQuery q = internal;
            if (q != null) {
                onInternalFrame(q, frame);
                return;
            }
            ServerLink o = owner;
            if (o != null) {
                if (batch == null) {
                    batch = new ArrayList<>(8);
                }
                if (batch.isEmpty()) {
                    batchOwner = o;
                }
                batch.add(frame);
                return;
            }
            onUnlinkedFrame(frame);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            deliverBatch();
        }

        private void deliverBatch() {
            List<ByteBuf> b = batch;
            if (b == null || b.isEmpty()) {
                return;
            }
            ServerLink o = batchOwner;
            batch = null;
            batchOwner = null;
            if (o.eventLoop().inEventLoop()) {
                o.onServerFrames(ServerConnection.this, b);
                // The owner is done with the list (it keeps no reference): the next burst reuses it rather than
                // allocating one per read. Handed to another loop, it belongs to that loop's task.
                b.clear();
                if (batch == null) {
                    batch = b;
                }
            } else {
                o.eventLoop().execute(() -> o.onServerFrames(ServerConnection.this, b));
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ServerLink o = owner;
            if (o != null) {
                if (o.eventLoop().inEventLoop()) {
                    o.onServerWritabilityChanged(ServerConnection.this);
                } else {
                    o.eventLoop().execute(() -> o.onServerWritabilityChanged(ServerConnection.this));
                }
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            deliverBatch();
            if (!loggedIn) {
                loginPromise.tryFailure(new ServerLoginException(ErrorResponse.error("FATAL", SqlState.CONNECTION_FAILURE,
                        "sluice: server " + login.description() + " closed the connection during login", null, null)));
            }
            if (closeReason == null) {
                closeReason = DisconnectReason.SERVER_CLOSED_BY_PEER;
                if (loggedIn) {
                    log.info("server connection S-{} to {} closed: reason={}", id, login.description(),
                            closeReason.code());
                }
            }
            closing = true;
            InternalQuery q = internal;
            if (q != null) {
                internal = null;
                if (q.timer != null) {
                    q.timer.cancel(false);
                }
                q.done.done(ServerConnection.this, q.error != null ? q.error : lostError());
            }
            closeListener.accept(ServerConnection.this);
            ServerLink o = owner;
            if (o != null) {
                if (o.eventLoop().inEventLoop()) {
                    o.onServerClosed(ServerConnection.this);
                } else {
                    o.eventLoop().execute(() -> o.onServerClosed(ServerConnection.this));
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!loggedIn) {
                loginPromise.tryFailure(new ServerLoginException(ErrorResponse.error("FATAL", SqlState.CONNECTION_FAILURE,
                        "sluice: login to server " + login.description() + " failed: " + rootMessage(cause), null, null)));
            } else {
                log.warn("server connection S-{}: {}", id, rootMessage(cause));
            }
            close(DisconnectReason.SERVER_FATAL);
        }

        // ---- login conversation ----

        private void onLoginFrame(ChannelHandlerContext ctx, ByteBuf frame) {
            byte type = frame.getByte(frame.readerIndex());
            switch (type) {
                case MessageType.AUTHENTICATION -> onAuthentication(ctx, frame);
                case MessageType.PARAMETER_STATUS -> {
                    ParameterStatus ps = ParameterStatus.decodeFrame(frame);
                    parameters.put(ps.name(), ps.value());
                }
                case MessageType.BACKEND_KEY_DATA -> backendKey = BackendKeyData.decodeFrame(frame);
                case MessageType.ERROR_RESPONSE -> {
                    ErrorResponse err = ErrorResponse.decodeFrame(frame);
                    log.warn("server {} refused login of user {}: {}", login.description(), login.user(), err);
                    loginPromise.tryFailure(new ServerLoginException(err));
                    closing = true;
                    closeReason = DisconnectReason.CONNECT_FAILED;
                    ctx.close();
                }
                case MessageType.READY_FOR_QUERY -> {
                    loggedIn = true;
                    if (!loginPromise.trySuccess(ServerConnection.this)) {
                        close(DisconnectReason.CONNECT_FAILED); // timed out meanwhile
                    }
                }
                case MessageType.NOTICE_RESPONSE, MessageType.NEGOTIATE_PROTOCOL_VERSION -> { }
                default -> failLogin(ctx, "unexpected message '" + (char) type + "' during login");
            }
        }

        private void onAuthentication(ChannelHandlerContext ctx, ByteBuf frame) {
            int length = frame.getInt(frame.readerIndex() + 1);
            int code = frame.getInt(frame.readerIndex() + 5);
            ByteBuf payload = frame.slice(frame.readerIndex() + 9, length - 8);
            try {
                switch (code) {
                    case MessageType.AUTH_OK -> { }
                    case MessageType.AUTH_CLEARTEXT_PASSWORD -> {
                        if (!(login.secret() instanceof StoredSecret.Plain p)) {
                            failLogin(ctx, "server asks for a cleartext password but Sluice has no plain-text password"
                                    + " for user \"" + login.user() + "\" (set password= in [databases] or a plain"
                                    + " password in auth_file)");
                            return;
                        }
                        send(ctx, new FrontendMessages.PasswordMessage(p.password()));
                    }
                    case MessageType.AUTH_MD5_PASSWORD -> {
                        byte[] salt = new byte[4];
                        payload.getBytes(payload.readerIndex(), salt);
                        if (!(login.secret() instanceof StoredSecret.Plain) && !(login.secret() instanceof StoredSecret.Md5)) {
                            failLogin(ctx, "server asks for an md5 password but Sluice has no plain or md5 password"
                                    + " for user \"" + login.user() + "\"");
                            return;
                        }
                        send(ctx, new FrontendMessages.PasswordMessage(Md5Auth.clientResponse(login.user(), login.secret(), salt)));
                    }
                    case MessageType.AUTH_SASL -> {
                        List<String> mechanisms = new ArrayList<>();
                        while (payload.isReadable()) {
                            String m = Wire.readCString(payload);
                            if (m.isEmpty()) {
                                break;
                            }
                            mechanisms.add(m);
                        }
                        if (!mechanisms.contains("SCRAM-SHA-256")) {
                            failLogin(ctx, "server offers SASL mechanisms " + mechanisms + "; Sluice supports SCRAM-SHA-256");
                            return;
                        }
                        if (login.secret() instanceof StoredSecret.Plain p) {
                            scram = new ScramClientExchange(login.user(), p.password());
                        } else if (login.scramKeys() != null) {
                            scram = new ScramClientExchange(login.user(), login.scramKeys().clientKey(),
                                    login.scramKeys().serverKey());
                        } else {
                            failLogin(ctx, "server requires SCRAM-SHA-256 but Sluice has no plain-text password for user \""
                                    + login.user() + "\"; put the plain password in auth_file or in [databases] password=,"
                                    + " or log in once through Sluice with SCRAM so it can reuse the client's keys");
                            return;
                        }
                        send(ctx, new FrontendMessages.SaslInitialResponse(scram.mechanism(), scram.clientFirst()));
                    }
                    case MessageType.AUTH_SASL_CONTINUE -> {
                        byte[] data = new byte[payload.readableBytes()];
                        payload.getBytes(payload.readerIndex(), data);
                        if (scram == null) {
                            failLogin(ctx, "SASLContinue without SASL");
                            return;
                        }
                        send(ctx, new FrontendMessages.SaslResponse(scram.clientFinal(data)));
                    }
                    case MessageType.AUTH_SASL_FINAL -> {
                        byte[] data = new byte[payload.readableBytes()];
                        payload.getBytes(payload.readerIndex(), data);
                        if (scram == null) {
                            failLogin(ctx, "SASLFinal without SASL");
                            return;
                        }
                        scram.verifyServerFinal(data);
                    }
                    default -> failLogin(ctx, "server asks for authentication method " + code
                            + ", which Sluice does not support (supported: trust, password, md5, scram-sha-256)");
                }
            } catch (AuthException e) {
                failLogin(ctx, "SCRAM authentication with the server failed: " + e.getMessage());
            }
        }

        private void send(ChannelHandlerContext ctx, PgMessage m) {
            ctx.writeAndFlush(PgMessage.encodeAll(ctx.alloc(), m));
        }

        private void failLogin(ChannelHandlerContext ctx, String message) {
            log.warn("login to server {} as {} failed: {}", login.description(), login.user(), message);
            loginPromise.tryFailure(new ServerLoginException(ErrorResponse.error("FATAL",
                    SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, "sluice: " + message, null, null)));
            closing = true;
            closeReason = DisconnectReason.CONNECT_FAILED;
            ctx.close();
        }

        // ---- after login ----

        private void onInternalFrame(InternalQuery q, ByteBuf frame) {
            try {
                byte type = frame.getByte(frame.readerIndex());
                switch (type) {
                    case MessageType.ERROR_RESPONSE -> {
                        if (q.error == null) {
                            q.error = ErrorResponse.decodeFrame(frame);
                        }
                    }
                    case MessageType.PARAMETER_STATUS -> {
                        ParameterStatus ps = ParameterStatus.decodeFrame(frame);
                        parameters.put(ps.name(), ps.value());
                    }
                    case MessageType.READY_FOR_QUERY -> {
                        internal = null;
                        if (q.timer != null) {
                            q.timer.cancel(false);
                        }
                        q.done.done(ServerConnection.this, q.error);
                    }
                    default -> { }
                }
            } finally {
                frame.release();
            }
        }

        /** A frame while idle in the pool: only asynchronous messages are legitimate. */
        private void onUnlinkedFrame(ByteBuf frame) {
            if (closing) {
                // Discarded mid-result (its client left): the rest of the reply is still arriving; drop it
                // quietly instead of logging every row.
                frame.release();
                return;
            }
            try {
                byte type = frame.getByte(frame.readerIndex());
                switch (type) {
                    case MessageType.PARAMETER_STATUS -> {
                        ParameterStatus ps = ParameterStatus.decodeFrame(frame);
                        parameters.put(ps.name(), ps.value());
                    }
                    case MessageType.NOTICE_RESPONSE, MessageType.NOTIFICATION_RESPONSE -> { }
                    case MessageType.ERROR_RESPONSE -> {
                        ErrorResponse err = ErrorResponse.decodeFrame(frame);
                        log.info("idle server connection S-{} got {}", id, err);
                        if (err.isFatal()) {
                            close(DisconnectReason.SERVER_FATAL);
                        }
                    }
                    default -> {
                        log.warn("idle server connection S-{} sent unexpected message '{}'; closing it", id,
                                (char) type);
                        close(DisconnectReason.SERVER_FATAL);
                    }
                }
            } finally {
                ReferenceCountUtil.release(frame);
            }
        }
    }
}
