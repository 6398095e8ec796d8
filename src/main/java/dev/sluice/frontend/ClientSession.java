package dev.sluice.frontend;

import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerLink;
import dev.sluice.config.AuthType;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.PoolMode;
import dev.sluice.config.Settings;
import dev.sluice.pool.DisconnectReason;
import dev.sluice.pool.Pool;
import dev.sluice.pool.ServerWaiter;
import dev.sluice.protocol.BackendMessages.Authentication;
import dev.sluice.protocol.BackendMessages.BackendKeyData;
import dev.sluice.protocol.BackendMessages.ParameterStatus;
import dev.sluice.protocol.BackendMessages.ReadyForQuery;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.FrameDecoder;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.PgMessage;
import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.SqlState;
import dev.sluice.protocol.StartupPacket;
import dev.sluice.protocol.StartupPacket.CancelRequest;
import dev.sluice.protocol.StartupPacket.StartupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection's life: startup, authentication, then the proxy state machine that leases a
 * server per transaction (or per session), forwards frames both ways untouched, and hands the server
 * back clean. Every field is touched only on this client's event loop; server events are delivered here.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements ServerWaiter, ServerLink {
    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

    /** Stop reading from a client that keeps sending while it waits for a server, past this many bytes. */
    private static final long MAX_PENDING_BYTES = 1 << 20;

    private static final AtomicLong IDS = new AtomicLong();

    private enum State { STARTUP, AUTH, WELCOME, READY, CLOSED }

    private final ProxyContext proxy;
    /** Shown by SHOW CLIENTS (id, ptr "C-id") and taken by KILL_CLIENT; logs say C-id too. */
    private final long id = IDS.incrementAndGet();
    private Channel channel;
    private FrameDecoder decoder;
    private State state = State.STARTUP;

    // identity, fixed after login
    private String user;
    private String database;
    private DatabaseConfig db;
    private Pool pool;
    private PoolMode mode;
    private BackendKeyData cancelKey;
    private ClientAuthenticator auth;
    private byte[] scramClientKey;
    private byte[] scramServerKey;
    /** The session settings this client expects on whichever server it runs on (canonical names). */
    private final Map<String, String> desired = new LinkedHashMap<>();
    private Map<String, String> requested = Map.of();

    // proxy state
    private ServerConnection server;
    private boolean waiting;
    private boolean syncing;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private long pendingBytes;
    /** Queries/Syncs/FunctionCalls sent to the server whose ReadyForQuery has not come back yet. */
    private int outstanding;
    /** Extended-protocol messages sent since the last Sync: the server is mid-pipeline, not releasable. */
    private boolean unsynced;
    private byte txnStatus = ReadyForQuery.IDLE;
    /** No server could be had for an extended-protocol batch: swallow messages until Sync, like PostgreSQL. */
    private boolean discardUntilSync;
    private boolean serverSentFatal;
    /** When the oldest reply still owed was requested (for query_timeout). */
    private long queryStartNanos;
    private volatile long lastActivityNanos = System.nanoTime();
    private long connectedAtNanos = System.nanoTime();
    private final long connectedAtMillis = System.currentTimeMillis();
    /** Logged in to the admin console database ("pgbouncer"/"sluice"): handed over after authentication. */
    private boolean console;

    // statistics for SHOW STATS, added to the pool's counters when a transaction ends
    private long xactStartNanos;
    private long waitStartNanos;
    private long statQueryNanos;
    private long statQueries;
    private long statReceived;
    private long statSent;
    private ScheduledFuture<?> loginTimer;
    private ScheduledFuture<?> waitTimer;
    private DisconnectReason closeReason;

    public ClientSession(ProxyContext proxy) {
        this.proxy = proxy;
    }

    // ---- accessors used by the listener, janitor and (later) the admin console ----

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public String user() {
        return user;
    }

    public String database() {
        return database;
    }

    public SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    public String applicationName() {
        return desired.getOrDefault("application_name", "");
    }

    // Read by the admin console from another thread: a snapshot for display, possibly a moment stale.

    public long id() {
        return id;
    }

    public Pool pool() {
        return pool;
    }

    public SocketAddress localAddress() {
        return channel.localAddress();
    }

    public long connectedAtMillis() {
        return connectedAtMillis;
    }

    public long lastActivityNanos() {
        return lastActivityNanos;
    }

    /** The server this client is linked to now, or null. */
    public ServerConnection linkedServer() {
        return server;
    }

    /** When this client started waiting for a server, 0 when it is not waiting. */
    public long waitingSinceNanos() {
        return waiting ? waitStartNanos : 0;
    }

    /** For SHOW CLIENTS/POOLS: "login", then "waiting" (queued for a server), "active" (linked) or "idle". */
    public String consoleState() {
        State st = state;
        if (st == State.STARTUP || st == State.AUTH) {
            return "login";
        }
        if (waiting || st == State.WELCOME) {
            return "waiting";
        }
        return server != null ? "active" : "idle";
    }

    // ---- Netty events ----

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        decoder = ctx.pipeline().get(FrameDecoder.class);
        proxy.clientOpened(this);
        Settings s = proxy.settings();
        if (!s.clientLoginTimeout().isZero()) {
            loginTimer = ctx.executor().schedule(() -> {
                if (state != State.READY && state != State.CLOSED) {
                    fatal(ErrorResponse.fatal(SqlState.CONNECTION_FAILURE, "sluice: login did not complete within "
                            + s.clientLoginTimeout().toSeconds() + "s (client_login_timeout)"),
                            DisconnectReason.CLIENT_LOGIN_TIMEOUT);
                }
            }, s.clientLoginTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        lastActivityNanos = System.nanoTime();
        switch (state) {
            case STARTUP -> {
                try {
                    onStartupPacket(StartupPacket.decode(frame));
                } finally {
                    frame.release();
                }
            }
            case AUTH -> {
                try {
                    onAuthStep(auth.onMessage(frame));
                } finally {
                    frame.release();
                }
            }
            case WELCOME -> queue(frame);
            case READY -> onClientMessage(frame);
            case CLOSED -> frame.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (server != null && !syncing) {
            server.flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Backpressure: stop reading the server while this client cannot take more.
        if (server != null) {
            server.setAutoRead(channel.isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        close(closeReason != null ? closeReason : DisconnectReason.CLIENT_CLOSED);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (c instanceof ProtocolException pe) {
            fatal(ErrorResponse.fatal(pe.sqlState(), pe.getMessage()), DisconnectReason.PROTOCOL_ERROR);
        } else if (c instanceof IOException) {
            close(DisconnectReason.CLIENT_CLOSED);
        } else {
            log.error("client {}: unexpected error", describe(), c);
            fatal(ErrorResponse.fatal(SqlState.INTERNAL_ERROR, "sluice: internal error: " + c),
                    DisconnectReason.PROTOCOL_ERROR);
        }
    }

    // ---- startup and login ----

    private void onStartupPacket(StartupPacket packet) {
        if (packet instanceof StartupPacket.SslRequest || packet instanceof StartupPacket.GssEncRequest) {
            // Not offered (yet): answer 'N' and the client continues in plain text with a new startup packet.
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            return;
        }
        if (packet instanceof CancelRequest cr) {
            ClientSession target = proxy.cancelRegistry().find(cr.processId(), cr.secretKey());
            if (target != null) {
                target.eventLoop().execute(target::forwardCancel);
            }
            closeQuietly(DisconnectReason.CLIENT_CLOSED);
            return;
        }
        StartupMessage startup = (StartupMessage) packet;
        decoder.typedFramesFollow();
        Map<String, String> p = startup.parameters();
        user = p.get("user");
        if (user == null || user.isEmpty()) {
            fatal(ErrorResponse.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet"), DisconnectReason.PROTOCOL_ERROR);
            return;
        }
        database = p.getOrDefault("database", "");
        if (database.isEmpty()) {
            database = user;
        }
        if (p.containsKey("replication") && !p.get("replication").equalsIgnoreCase("false")
                && !p.get("replication").equals("0") && !p.get("replication").equalsIgnoreCase("off")) {
            fatal(ErrorResponse.fatal(SqlState.FEATURE_NOT_SUPPORTED,
                    "sluice: replication connections are not supported through a pooler",
                    "Connect replication clients directly to PostgreSQL."), DisconnectReason.UNSUPPORTED_FEATURE);
            return;
        }
        Settings s = proxy.settings();
        if (s.maxClientConn() > 0 && proxy.clientCount() > s.maxClientConn()) {
            fatal(ErrorResponse.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already",
                    "sluice: max_client_conn=" + s.maxClientConn() + " client connections are open; close unused "
                            + "connections or raise max_client_conn."), DisconnectReason.MAX_CLIENT_CONN);
            return;
        }
        console = database.equals("pgbouncer") || database.equals("sluice");
        if (console) {
            requested = p; // the console reads application_name from them; nothing is sent to a server
        }
        db = console ? null : proxy.config().database(database).orElse(null);
        if (db == null && !console) {
            fatal(ErrorResponse.fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + database + "\" does not exist",
                    "sluice: there is no [databases] entry named \"" + database + "\" and no \"*\" fallback."),
                    DisconnectReason.NO_SUCH_DATABASE);
            return;
        }
        if (!console && proxy.pools().isDisabled(database)) {
            fatal(ErrorResponse.fatal(SqlState.CANNOT_CONNECT_NOW, "sluice: database \"" + database
                    + "\" is disabled (DISABLE); new connections are refused until ENABLE"),
                    DisconnectReason.DATABASE_DISABLED);
            return;
        }
        try {
            if (!console) {
                requested = StartupParameters.fromStartup(p, s.ignoreStartupParameters());
            }
        } catch (ProtocolException e) {
            fatal(ErrorResponse.fatal(e.sqlState(), e.getMessage()), DisconnectReason.STARTUP_PARAMETER_REJECTED);
            return;
        }
        ClientAuthenticator[] holder = new ClientAuthenticator[1];
        AuthType type = s.authType();
        String secret = proxy.config().authFile().get(user);
        state = State.AUTH;
        ClientAuthenticator.Step first = ClientAuthenticator.start(type, user, secret, holder);
        auth = holder[0];
        onAuthStep(first);
    }

    private void onAuthStep(ClientAuthenticator.Step step) {
        if (step instanceof ClientAuthenticator.Step.Send send) {
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), send.message()));
        } else if (step instanceof ClientAuthenticator.Step.Failure f) {
            log.info("client {} failed authentication: {}", describe(), f.error().message());
            fatal(f.error(), DisconnectReason.AUTH_FAILED);
        } else if (step instanceof ClientAuthenticator.Step.Success ok) {
            auth = null;
            scramClientKey = ok.scramClientKey();
            scramServerKey = ok.scramServerKey();
            if (ok.finalMessage() != null) {
                channel.write(PgMessage.encodeAll(channel.alloc(), ok.finalMessage()));
            }
            onAuthenticated();
        }
    }

    private void onAuthenticated() {
        if (console) {
            // The admin console takes this connection over: it checks admin_users/stats_users and answers.
            if (loginTimer != null) {
                loginTimer.cancel(false);
            }
            state = State.CLOSED;
            proxy.clientClosed(this);
            proxy.openConsole(channel, id, user, requested);
            return;
        }
        pool = proxy.pools().poolFor(db, user);
        mode = pool.mode();
        if (scramClientKey != null && scramServerKey != null && db.user() == null) {
            pool.offerScramKeys(scramClientKey, scramServerKey);
        }
        channel.write(PgMessage.encodeAll(channel.alloc(), Authentication.ok()));
        cancelKey = proxy.cancelRegistry().register(this);
        state = State.WELCOME;
        if (pool.welcomeParameters() != null) {
            fillDesired(pool.welcomeParameters());
            sendWelcome();
        } else {
            // No server of this pool has logged in yet: we need one to learn the server's parameters.
            channel.flush();
            requestServer();
        }
    }

    /** Client's requested settings over the server's defaults for the parameters every client must have. */
    private void fillDesired(Map<String, String> welcome) {
        desired.clear();
        for (String k : StartupParameters.TRACKED) {
            String v = welcome.get(k);
            if (v != null) {
                desired.put(k, v);
            }
        }
        desired.putAll(requested);
    }

    private void sendWelcome() {
        Map<String, String> shown = new LinkedHashMap<>(pool.welcomeParameters());
        for (Map.Entry<String, String> e : desired.entrySet()) {
            if (shown.containsKey(e.getKey())) {
                shown.put(e.getKey(), e.getValue());
            }
        }
        ByteBuf buf = channel.alloc().buffer();
        for (Map.Entry<String, String> e : shown.entrySet()) {
            new ParameterStatus(e.getKey(), e.getValue()).encode(buf);
        }
        cancelKey.encode(buf);
        ReadyForQuery.IDLE_RFQ.encode(buf);
        channel.writeAndFlush(buf);
        state = State.READY;
        if (loginTimer != null) {
            loginTimer.cancel(false);
        }
        if (proxy.settings().logConnections()) {
            log.info("login: {} (pool_mode={})", describe(), mode.name().toLowerCase(Locale.ROOT));
        }
        // Anything the client pipelined behind its login (rare) runs now.
        if (!pending.isEmpty() && server == null && !waiting) {
            requestServer();
        }
    }

    // ---- the proxy state machine ----

    private void onClientMessage(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        statReceived += frame.readableBytes();
        if (type == MessageType.TERMINATE) {
            frame.release();
            close(DisconnectReason.CLIENT_TERMINATE);
            return;
        }
        if (discardUntilSync && server == null) {
            frame.release();
            if (type == MessageType.SYNC) {
                discardUntilSync = false;
                channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), ReadyForQuery.IDLE_RFQ));
            }
            return;
        }
        if (server != null && !syncing) {
            forward(frame);
            return;
        }
        if (type == MessageType.QUERY && server == null && !waiting && pending.isEmpty()
                && txnStatus == ReadyForQuery.IDLE && answerLocally(frame)) {
            return;
        }
        queue(frame);
        if (server == null && !waiting) {
            requestServer();
        }
    }

    /**
     * Answers, without a server, the one statement drivers send right after login: pgjdbc's
     * {@code SET application_name = '...'}. PostgreSQL would reply CommandComplete, ParameterStatus,
     * ReadyForQuery; so do we, and the value is applied on the next server this client leases. Without
     * this, a client could not even finish connecting while its pool is exhausted.
     */
    private boolean answerLocally(ByteBuf frame) {
        String sql = dev.sluice.protocol.FrontendMessages.Query.sqlOf(frame);
        String value = LocalStatements.applicationNameSet(sql);
        if (value == null) {
            return false;
        }
        frame.release();
        desired.put("application_name", value);
        channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(),
                new dev.sluice.protocol.BackendMessages.CommandComplete("SET"),
                new ParameterStatus("application_name", value), ReadyForQuery.IDLE_RFQ));
        return true;
    }

    private void queue(ByteBuf frame) {
        pending.addLast(frame);
        pendingBytes += frame.readableBytes();
        if (pendingBytes > MAX_PENDING_BYTES) {
            channel.config().setAutoRead(false);
        }
    }

    /** Sends one client frame to the linked server, keeping the count of replies still owed. */
    private void forward(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        if (outstanding == 0 && (type == MessageType.QUERY || type == MessageType.FUNCTION_CALL
                || type == MessageType.SYNC)) {
            queryStartNanos = System.nanoTime();
            if (xactStartNanos == 0) {
                xactStartNanos = queryStartNanos;
            }
        }
        switch (type) {
            case MessageType.QUERY, MessageType.FUNCTION_CALL -> outstanding++;
            case MessageType.SYNC -> {
                outstanding++;
                unsynced = false;
            }
            case MessageType.PARSE, MessageType.BIND, MessageType.DESCRIBE, MessageType.EXECUTE,
                 MessageType.CLOSE, MessageType.FLUSH -> unsynced = true;
            default -> { }
        }
        server.write(frame);
        if (!server.isWritable()) {
            channel.config().setAutoRead(false);
        }
    }

    private void requestServer() {
        waiting = true;
        waitStartNanos = 0;
        ServerConnection s = proxy.pools().acquire(pool, this);
        if (s != null) {
            serverLeased(s);
            return;
        }
        if (waiting) {
            waitStartNanos = lastActivityNanos; // the request that needs the server arrived then
            java.time.Duration t = proxy.settings().queryWaitTimeout();
            if (!t.isZero() && waitTimer == null) {
                waitTimer = channel.eventLoop().schedule(this::onWaitTimeout, t.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    private void onWaitTimeout() {
        waitTimer = null;
        if (!waiting) {
            return;
        }
        proxy.pools().cancelWait(pool, this);
        waiting = false;
        long secs = proxy.settings().queryWaitTimeout().toSeconds();
        ErrorResponse err = ErrorResponse.error("ERROR", SqlState.TOO_MANY_CONNECTIONS,
                "sluice: no server connection for database \"" + pool.key().database() + "\" user \""
                        + pool.key().user() + "\" became free within " + secs + "s (query_wait_timeout); all "
                        + pool.settings().poolSize() + " connections of the pool (pool_size) are in use",
                null, "Shorten transactions, raise pool_size, or find the clients holding connections (SHOW CLIENTS).");
        log.info("client {}: reason={} after {}s", describe(), "query_wait_timeout", secs);
        if (state == State.WELCOME) {
            fatal(ErrorResponse.error("FATAL", err.sqlState(), err.message(), null, err.fields().get('H')),
                    DisconnectReason.SERVER_LOGIN_FAILED);
            return;
        }
        failPending(err);
    }

    @Override
    public void serverLeased(ServerConnection s) {
        if (state == State.CLOSED || !waiting) {
            // Closed (or timed out) while the server was on its way: give it straight back.
            proxy.pools().release(pool, s);
            return;
        }
        waiting = false;
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        long waited = 0;
        if (waitStartNanos != 0) {
            waited = System.nanoTime() - waitStartNanos;
            waitStartNanos = 0;
        }
        pool.stats().assigned(waited);
        server = s;
        serverSentFatal = false;
        s.setOwner(this);
        if (state == State.WELCOME && pool.welcomeParameters() != null && desired.isEmpty()) {
            fillDesired(pool.welcomeParameters());
        }
        String sync = syncStatements(s);
        if (sync.isEmpty()) {
            linked();
            return;
        }
        syncing = true;
        s.runInternal(sync, (srv, err) -> eventLoop().execute(() -> syncDone(srv, err)));
    }

    /** SET/RESET statements that make the server's session match what this client expects. */
    private String syncStatements(ServerConnection s) {
        StringBuilder sql = new StringBuilder();
        Map<String, String> reported = s.parameters();
        Map<String, String> applied = s.applied();
        for (Map.Entry<String, String> e : desired.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            if (reported.containsKey(k)) {
                if (!v.equals(reported.get(k))) {
                    sql.append(StartupParameters.set(k, v));
                }
            } else if (!v.equals(applied.get(k))) {
                sql.append(StartupParameters.set(k, v));
                applied.put(k, v);
            }
        }
        for (java.util.Iterator<String> it = applied.keySet().iterator(); it.hasNext(); ) {
            String k = it.next();
            if (!desired.containsKey(k)) {
                sql.append(StartupParameters.reset(k));
                it.remove();
            }
        }
        return sql.toString();
    }

    private void syncDone(ServerConnection s, ErrorResponse err) {
        syncing = false;
        if (state == State.CLOSED || s != server) {
            return;
        }
        if (err != null) {
            server = null;
            proxy.pools().discard(pool, s, DisconnectReason.CLEANUP_FAILED);
            fatal(ErrorResponse.fatal(err.sqlState().isEmpty() ? SqlState.PROTOCOL_VIOLATION : err.sqlState(),
                    "sluice: could not apply the session parameters of this connection on the server: "
                            + err.message()), DisconnectReason.STARTUP_PARAMETER_REJECTED);
            return;
        }
        // Take the server's spelling of what we set (e.g. "ISO, MDY" for "ISO") so the next lease compares equal.
        for (Map.Entry<String, String> e : desired.entrySet()) {
            String reported = s.parameters().get(e.getKey());
            if (reported != null) {
                e.setValue(reported);
            }
        }
        linked();
    }

    /** The server is ours and in the state the client expects: send it what the client queued. */
    private void linked() {
        if (state == State.WELCOME) {
            sendWelcome();
        }
        while (!pending.isEmpty() && server != null) {
            forward(pending.pollFirst());
        }
        pendingBytes = 0;
        if (server != null) {
            server.flush();
            server.setAutoRead(channel.isWritable());
        }
        channel.config().setAutoRead(server == null || server.isWritable());
        maybeRelease();
    }

    @Override
    public void serverUnavailable(ErrorResponse error) {
        if (!waiting || state == State.CLOSED) {
            return;
        }
        waiting = false;
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        if (state == State.WELCOME) {
            fatal(error, DisconnectReason.SERVER_LOGIN_FAILED);
            return;
        }
        failPending(ErrorResponse.error("ERROR", error.sqlState(), error.message(), error.fields().get('D'),
                error.fields().get('H')));
    }

    /**
     * Answers every queued request with {@code error}, the way PostgreSQL would answer a failing request:
     * one error per Query/Sync segment, each followed by ReadyForQuery; an unfinished extended-protocol
     * batch is discarded until its Sync arrives. The connection stays usable.
     */
    private void failPending(ErrorResponse error) {
        ByteBuf out = channel.alloc().buffer();
        boolean errorSent = false;
        for (ByteBuf f : pending) {
            byte type = f.getByte(f.readerIndex());
            f.release();
            if (!errorSent) {
                error.encode(out);
                errorSent = true;
            }
            if (type == MessageType.QUERY || type == MessageType.SYNC || type == MessageType.FUNCTION_CALL) {
                ReadyForQuery.IDLE_RFQ.encode(out);
                errorSent = false;
            }
        }
        discardUntilSync = errorSent; // a batch without its Sync yet
        pending.clear();
        pendingBytes = 0;
        channel.writeAndFlush(out);
        channel.config().setAutoRead(true);
    }

    @Override
    public void onServerFrames(ServerConnection s, List<ByteBuf> frames) {
        if (s != server || state == State.CLOSED) {
            frames.forEach(ReferenceCountUtil::release);
            return;
        }
        lastActivityNanos = System.nanoTime();
        for (ByteBuf f : frames) {
            byte type = f.getByte(f.readerIndex());
            switch (type) {
                case MessageType.READY_FOR_QUERY -> {
                    txnStatus = ReadyForQuery.statusOf(f);
                    if (outstanding > 0) {
                        outstanding--;
                    }
                    countReadyForQuery();
                }
                case MessageType.PARAMETER_STATUS -> {
                    ParameterStatus ps = ParameterStatus.decodeFrame(f);
                    s.parameters().put(ps.name(), ps.value());
                    if (desired.containsKey(ps.name()) || StartupParameters.TRACKED.contains(ps.name())) {
                        desired.put(ps.name(), ps.value());
                    }
                }
                case MessageType.ERROR_RESPONSE -> {
                    if (ErrorResponse.decodeFrame(f).isFatal()) {
                        serverSentFatal = true;
                    }
                }
                default -> { }
            }
            statSent += f.readableBytes();
            channel.write(f, channel.voidPromise());
        }
        channel.flush();
        if (!channel.isWritable()) {
            s.setAutoRead(false);
        }
        maybeRelease();
    }

    /** SHOW STATS: a query ended; at the end of a transaction, what it did goes to the pool's counters. */
    private void countReadyForQuery() {
        statQueries++;
        long now = lastActivityNanos;
        if (outstanding == 0 && queryStartNanos != 0) {
            statQueryNanos += now - queryStartNanos; // time the server was busy for us, pipelined queries once
        }
        if (txnStatus == ReadyForQuery.IDLE && outstanding == 0) {
            pool.stats().transaction(statQueries, xactStartNanos == 0 ? 0 : now - xactStartNanos, statQueryNanos,
                    statReceived, statSent);
            xactStartNanos = 0;
            statQueries = 0;
            statQueryNanos = 0;
            statReceived = 0;
            statSent = 0;
        }
    }

    /** In transaction mode, the server goes back to the pool at the end of each transaction. */
    private void maybeRelease() {
        if (mode == PoolMode.SESSION || server == null || syncing || outstanding > 0 || unsynced
                || txnStatus != ReadyForQuery.IDLE || !pending.isEmpty() || state != State.READY) {
            return;
        }
        ServerConnection s = server;
        server = null;
        s.setAutoRead(true);
        proxy.pools().release(pool, s);
        channel.config().setAutoRead(true);
    }

    @Override
    public void onServerClosed(ServerConnection s) {
        if (s != server || state == State.CLOSED) {
            return;
        }
        server = null;
        syncing = false;
        log.info("client {}: its server connection {} closed", describe(), s);
        if (serverSentFatal) {
            close(DisconnectReason.SERVER_LOST);
        } else {
            fatal(ErrorResponse.fatal(SqlState.CONNECTION_FAILURE,
                    "sluice: the server connection closed unexpectedly (PostgreSQL restarted or terminated the backend)",
                    "Reconnect; the session state and any open transaction are lost."), DisconnectReason.SERVER_LOST);
        }
    }

    @Override
    public void onServerWritabilityChanged(ServerConnection s) {
        if (s == server && state != State.CLOSED && pendingBytes <= MAX_PENDING_BYTES) {
            channel.config().setAutoRead(s.isWritable());
        }
    }

    // ---- cancel ----

    /** A CancelRequest with this session's key arrived: pass it to the server running our query, if any. */
    void forwardCancel() {
        ServerConnection s = server;
        if (s == null || s.backendKey() == null) {
            return;
        }
        s.cancelQuery();
    }

    // ---- timeouts (called once a second on this loop) ----

    public void checkTimeouts(long now) {
        if (state != State.READY) {
            return;
        }
        Settings st = proxy.settings();
        if (server != null && outstanding > 0 && !st.queryTimeout().isZero()
                && now - queryStartNanos > st.queryTimeout().toNanos()) {
            // Like PgBouncer: the client is told and disconnected; its server, mid-query, is closed, not reused.
            fatal(ErrorResponse.fatal(SqlState.QUERY_CANCELED, "sluice: closed: query ran longer than "
                    + st.queryTimeout().toSeconds() + "s (query_timeout)"), DisconnectReason.QUERY_TIMEOUT);
            return;
        }
        if (server != null && outstanding == 0 && !syncing && txnStatus != ReadyForQuery.IDLE
                && !st.idleTransactionTimeout().isZero() && now - lastActivityNanos > st.idleTransactionTimeout().toNanos()) {
            fatal(ErrorResponse.fatal(SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                    "sluice: closed: idle in transaction for " + st.idleTransactionTimeout().toSeconds()
                            + "s (idle_transaction_timeout)", "The transaction was rolled back; commit or roll back promptly."),
                    DisconnectReason.IDLE_TRANSACTION_TIMEOUT);
            return;
        }
        if (!waiting && outstanding == 0 && txnStatus == ReadyForQuery.IDLE && !st.clientIdleTimeout().isZero()
                && now - lastActivityNanos > st.clientIdleTimeout().toNanos()) {
            fatal(ErrorResponse.fatal(SqlState.IDLE_SESSION_TIMEOUT, "sluice: closed: client idle for "
                    + st.clientIdleTimeout().toSeconds() + "s (client_idle_timeout)"), DisconnectReason.CLIENT_IDLE_TIMEOUT);
        }
    }

    // ---- closing ----

    /**
     * KILL / KILL_CLIENT from the admin console: the client is told why and closed; its server, if any, is
     * closed too rather than cleaned up for reuse (as PgBouncer does). Runs on this client's loop.
     */
    public void kill(String message) {
        eventLoop().execute(() -> {
            ServerConnection s = server;
            if (s != null && state != State.CLOSED) {
                server = null;
                proxy.pools().discard(pool, s, DisconnectReason.ADMIN_KILL);
            }
            fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN, message), DisconnectReason.ADMIN_KILL);
        });
    }

    /**
     * Graceful shutdown: closes this client (57P01) unless it is inside a transaction or waiting for a
     * reply; the caller asks again until every client is gone. Runs on this client's loop.
     */
    public void closeIfIdle() {
        eventLoop().execute(() -> {
            if (state == State.READY && server != null && (syncing || outstanding > 0 || unsynced
                    || txnStatus != ReadyForQuery.IDLE)) {
                return; // mid-transaction: let it finish
            }
            fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                    "sluice: terminating connection because the proxy is shutting down"), DisconnectReason.SHUTDOWN);
        });
    }

    /** Sluice is shutting down: tell the client (57P01, as PostgreSQL does) and close, waiting briefly. */
    public void closeForShutdown() {
        if (channel == null) {
            return;
        }
        channel.eventLoop().submit(() -> fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                "sluice: terminating connection because the proxy is shutting down"), DisconnectReason.SHUTDOWN))
                .awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** Sends a FATAL error, then closes. */
    void fatal(ErrorResponse error, DisconnectReason reason) {
        if (state == State.CLOSED) {
            return;
        }
        closeReason = reason;
        if (channel.isActive()) {
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), error));
        }
        log.info("closing client {}: reason={} ({})", describe(), reason.code(), error.message());
        close(reason);
    }

    private void closeQuietly(DisconnectReason reason) {
        closeReason = reason;
        state = State.CLOSED;
        proxy.clientClosed(this);
        channel.close();
    }

    /** Tears the session down and hands its server back clean (or closes it when it cannot be made clean). */
    void close(DisconnectReason reason) {
        if (state == State.CLOSED) {
            return;
        }
        boolean wasReady = state == State.READY;
        state = State.CLOSED;
        if (closeReason == null) {
            closeReason = reason;
        }
        if (loginTimer != null) {
            loginTimer.cancel(false);
        }
        if (waitTimer != null) {
            waitTimer.cancel(false);
        }
        proxy.cancelRegistry().unregister(cancelKey);
        proxy.clientClosed(this);
        if (waiting) {
            proxy.pools().cancelWait(pool, this);
            waiting = false;
        }
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        ServerConnection s = server;
        server = null;
        if (s != null) {
            cleanUp(s);
        }
        if (wasReady && proxy.settings().logDisconnections()) {
            log.info("disconnect: {} reason={} after {}s", describe(), closeReason.code(),
                    (System.nanoTime() - connectedAtNanos) / 1_000_000_000L);
        }
        channel.close();
    }

    /**
     * Makes a server this client leaves behind safe for the next client: ROLLBACK an open transaction,
     * run server_reset_query in session mode; a server in the middle of a query is closed instead.
     */
    private void cleanUp(ServerConnection s) {
        s.setAutoRead(true);
        if (!s.isUsable()) {
            proxy.pools().discard(pool, s, DisconnectReason.SERVER_CLOSED_BY_PEER);
            return;
        }
        if (syncing || outstanding > 0 || unsynced) {
            proxy.pools().discard(pool, s, DisconnectReason.CLIENT_LEFT_MID_QUERY);
            return;
        }
        List<String> steps = new ArrayList<>();
        if (txnStatus != ReadyForQuery.IDLE) {
            steps.add("ROLLBACK");
        }
        Settings st = proxy.settings();
        String reset = st.serverResetQuery();
        if ((mode == PoolMode.SESSION || st.serverResetQueryAlways()) && reset != null && !reset.isBlank()) {
            steps.add(reset);
        }
        runCleanup(s, steps, 0);
    }

    private void runCleanup(ServerConnection s, List<String> steps, int i) {
        if (i == steps.size()) {
            String reset = proxy.settings().serverResetQuery();
            if (reset != null && steps.contains(reset)) {
                String up = reset.toUpperCase(Locale.ROOT);
                if (up.contains("DISCARD ALL") || up.contains("RESET ALL")) {
                    // RESET ALL inside DISCARD ALL undid every setting Sluice applied for earlier clients.
                    s.applied().clear();
                }
            }
            proxy.pools().release(pool, s);
            return;
        }
        s.runInternal(steps.get(i), (srv, err) -> {
            if (err != null) {
                log.warn("cleanup \"{}\" failed on {}: {}", steps.get(i), srv, err);
                proxy.pools().discard(pool, srv, DisconnectReason.CLEANUP_FAILED);
            } else {
                runCleanup(srv, steps, i + 1);
            }
        });
    }

    String describe() {
        String addr = channel == null ? "?" : addressOf(channel.remoteAddress());
        return (user == null ? "?" : user) + "@" + addr + "/" + (database == null ? "?" : database)
                + (desired.getOrDefault("application_name", "").isEmpty() ? "" : " app=" + desired.get("application_name"));
    }

    private static String addressOf(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            return i.getAddress() == null ? i.getHostString() + ":" + i.getPort()
                    : i.getAddress().getHostAddress() + ":" + i.getPort();
        }
        return String.valueOf(a);
    }
}
