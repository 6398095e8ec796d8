package dev.sluice.frontend;

import dev.sluice.backend.ServerConnection;
import dev.sluice.backend.ServerLink;
import dev.sluice.config.AuthType;
import dev.sluice.config.DatabaseConfig;
import dev.sluice.config.PoolMode;
import dev.sluice.config.Settings;
import dev.sluice.config.TlsConfig;
import dev.sluice.guard.Workload;
import dev.sluice.pool.DisconnectReason;
import dev.sluice.pool.Pool;
import dev.sluice.pool.ServerWaiter;
import dev.sluice.protocol.BackendMessages.Authentication;
import dev.sluice.protocol.BackendMessages.BackendKeyData;
import dev.sluice.protocol.BackendMessages.ParameterStatus;
import dev.sluice.protocol.BackendMessages.ReadyForQuery;
import dev.sluice.protocol.ClientFrames;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.FrameDecoder;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.Closing;
import dev.sluice.protocol.OutboundBatch;
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
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
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
    /** Server replies of the current read burst, written to the client as one buffer (see OutboundBatch). */
    private OutboundBatch toClient;
    private FrameDecoder decoder;
    /** The client asked for TLS and got 'S': everything after the SSLRequest goes through the SslHandler. */
    private boolean tls;
    private io.netty.handler.ssl.SslHandler tlsHandler;
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
    /** The workload this client was classified into (read by the pools under their lock, hence volatile). */
    private volatile Workload workload;
    private boolean countedInWorkload;

    // proxy state
    private ServerConnection server;
    private boolean waiting;
    private boolean syncing;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(2); // usually empty: small for idle clients
    private long pendingBytes;
    /** Queries/Syncs/FunctionCalls sent to the server whose ReadyForQuery has not come back yet. */
    private int outstanding;
    /** Extended-protocol messages sent since the last Sync: the server is mid-pipeline, not releasable. */
    private boolean unsynced;
    private byte txnStatus = ReadyForQuery.IDLE;
    /** No server could be had for an extended-protocol batch: swallow messages until Sync, like PostgreSQL. */
    private boolean discardUntilSync;
    private boolean serverSentFatal;
    /** Transaction mode with max_prepared_statements > 0: replies owed, for prepared-statement rewriting. */
    private ResponseTracker tracker;
    /** This client's protocol-level prepared statements, by the client's own names. */
    private final Map<String, PreparedStatementRegistry.Statement> statements = new java.util.HashMap<>();
    /** Transaction mode: this lease changed session state; the server is reset before anyone else gets it. */
    private boolean sessionDirty;
    /**
     * pin_on_session_state: why this client keeps its server until it disconnects (a word of
     * {@link SessionState#pinReason}), null while it is not pinned. Read by SHOW CLIENTS from another thread.
     */
    private volatile String pinReason;
    /** A SET/RESET the client sent, applied to {@code desired} at its ReadyForQuery if no error came. */
    private String[] pendingSetting;
    private boolean pendingSettingFailed;
    /** This client is counted in its workload's queue (max_queue). */
    private boolean queuedInWorkload;
    /** When the current transaction began (ReadyForQuery went from idle to in-transaction). */
    private long txnStartNanos;
    /** When a circuit-breaker permission was taken for the current wait (0: none outstanding). */
    private long breakerPermitNanos;
    /** Replies were written to the client without a flush (answered without a server). */
    private boolean unflushed;
    /**
     * This client's read burst is being handled (between channelRead and channelReadComplete): frames for the
     * server can wait for the flush at channelReadComplete, so a burst of Parse/Bind/Execute/Sync leaves in one
     * write even when the server is leased by its first frame.
     */
    private boolean inReadBurst;
    /** When the oldest reply still owed was requested (for query_timeout). */
    private long queryStartNanos;
    private volatile long lastActivityNanos = System.nanoTime();
    /** The start of the last statement text the client sent (Query or Parse), for leak attribution. */
    private volatile byte[] lastStatement;
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
    /** Counted in the LoginGuard's connections in startup (until login completes or the connection closes). */
    private boolean inStartup;
    /** The address it was counted under (the channel's may be gone by the time it closes). */
    private SocketAddress startupAddress;
    /** Authentication failed; the answer waits for auth_failure_delay and nothing more is read meanwhile. */
    private boolean authFailed;
    private ScheduledFuture<?> waitTimer;
    private DisconnectReason closeReason;
    /** Latency histograms for /metrics (dev.sluice.observe); ClientMetrics.OFF when stats_listen is off. */
    private final dev.sluice.observe.ClientMetrics metrics;
    /** `sluice audit`'s listener; null (one branch per event) when nobody listens. */
    private final dev.sluice.audit.ConnectionEvents events;

    public ClientSession(ProxyContext proxy) {
        this.proxy = proxy;
        this.metrics = proxy.clientMetrics();
        this.events = proxy.connectionEvents();
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

    @Override
    public Workload workload() {
        return workload;
    }

    public String applicationName() {
        return desired.getOrDefault("application_name", "");
    }

    /** Session mode: the server must have been opened with this client's startup parameters (see Pool). */
    @Override
    public Map<String, String> startupParameters() {
        return mode == PoolMode.SESSION ? requested : null;
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

    /** pin_on_session_state: why this client keeps its server ("listen", "temp_table", ...), or null. */
    public String pinReason() {
        return pinReason;
    }

    /** Protocol-level prepared statements this client has (by its own names). */
    public int preparedStatementCount() {
        return statements.size();
    }

    /** When this client started waiting for a server, 0 when it is not waiting. */
    public long waitingSinceNanos() {
        return waiting ? waitStartNanos : 0;
    }

    /** This client's latency histograms; holdingSinceNanos() tells since when it holds its server. */
    public dev.sluice.observe.ClientMetrics metrics() {
        return metrics;
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
        toClient = new OutboundBatch(channel);
        decoder = ctx.pipeline().get(FrameDecoder.class);
        proxy.clientOpened(this);
        startupAddress = channel.remoteAddress();
        LoginGuard.Refusal refusal = proxy.loginGuard().admit(startupAddress, System.nanoTime());
        if (refusal != null) {
            // Refused before anything is read: no startup packet parsed, no password checked.
            fatal(refusal.error(), refusal.reason());
            ctx.fireChannelActive();
            return;
        }
        inStartup = true;
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

    /** The client's socket (tests read the TCP options tcp_keepalive and its timings set on it). */
    public Channel channel() {
        return channel;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        lastActivityNanos = System.nanoTime();
        inReadBurst = true;
        switch (state) {
            case STARTUP -> {
                try {
                    onStartupPacket(StartupPacket.decode(frame));
                } finally {
                    frame.release();
                }
            }
            case AUTH -> {
                if (authFailed) {
                    frame.release(); // already read with the failing message; the answer is on its way
                    return;
                }
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
        inReadBurst = false;
        if (unflushed) {
            unflushed = false;
            channel.flush();
        }
        if (server != null && !syncing) {
            server.flush();
            if (tracker != null) {
                emitSynthetic();
                toClient.writeCollected();
                channel.flush();
            }
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
        if ((c instanceof javax.net.ssl.SSLException || c instanceof io.netty.handler.ssl.NotSslRecordException)
                && tlsHandler != null && !tlsHandler.handshakeFuture().isSuccess()) {
            // The TLS handshake failed: nothing can be said to the client any more (it cannot read plain text).
            log.info("closing client {}: reason={} (TLS handshake failed: {})", describe(),
                    DisconnectReason.TLS_HANDSHAKE_FAILED.code(), c.getMessage());
            close(DisconnectReason.TLS_HANDSHAKE_FAILED);
        } else if (c instanceof ProtocolException pe) {
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
        if (packet instanceof StartupPacket.SslRequest) {
            onSslRequest();
            return;
        }
        if (packet instanceof StartupPacket.GssEncRequest) {
            // Not offered: answer 'N' and the client continues with a new startup packet (or an SSLRequest).
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
        TlsConfig tlsConfig = proxy.settings().tls().client();
        if (!tls && tlsConfig.mode().requiresTls() && !isUnixSocket()) {
            // Like a pg_hba.conf with only hostssl lines: PostgreSQL answers such a client 28000 as well.
            fatal(ErrorResponse.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "sluice: TLS is required (client_tls_sslmode = " + tlsConfig.mode().configWord()
                            + "); this connection is not encrypted",
                    "Connect with sslmode=require (or verify-full) so the client asks for TLS."),
                    DisconnectReason.TLS_REQUIRED);
            return;
        }
        Map<String, String> p = startup.parameters();
        negotiateProtocol(startup);
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

    /**
     * SSLRequest: 'S' and a TLS handshake when client_tls_sslmode offers TLS, else 'N' (the client then
     * continues in plain text or gives up). Bytes the client sent after the SSLRequest and before seeing our
     * answer would be read as if they had come through TLS: refused, as PostgreSQL does since CVE-2021-23214.
     */
    private void onSslRequest() {
        TlsConfig t = proxy.settings().tls().client();
        if (tls) {
            fatal(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION, "sluice: SSLRequest on a connection that already "
                    + "uses TLS"), DisconnectReason.PROTOCOL_ERROR);
            return;
        }
        if (!t.enabled() || isUnixSocket()) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
            return;
        }
        if (decoder.bufferedBytes() > 0) {
            fatal(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION, "sluice: received unencrypted data after SSL request",
                    "The client sent data before the TLS handshake: a client bug or a man-in-the-middle attack."),
                    DisconnectReason.PROTOCOL_ERROR);
            return;
        }
        // 'S' leaves in plain text before the SslHandler is added, which encrypts everything after it.
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
        io.netty.handler.ssl.SslHandler handler = t.context().newHandler(channel.alloc());
        channel.pipeline().addFirst("tls", handler);
        tls = true;
        tlsHandler = handler;
        handler.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                log.debug("client {}: TLS {}", describe(), dev.sluice.protocol.TlsDescription.of(channel));
            }
        });
    }

    private boolean isUnixSocket() {
        return channel instanceof io.netty.channel.unix.DomainSocketChannel;
    }

    /** SHOW CLIENTS' tls column: "TLSv1.3/TLS_AES_256_GCM_SHA384", or "" in plain text. */
    public String tlsDescription() {
        return dev.sluice.protocol.TlsDescription.of(channel);
    }

    /**
     * A client asking for protocol 3.x (x > 0, e.g. PostgreSQL 18's 3.2) or sending {@code _pq_.} options
     * gets NegotiateProtocolVersion and continues on 3.0, exactly as PostgreSQL answers such a client.
     */
    private void negotiateProtocol(StartupMessage startup) {
        List<String> unsupported = new ArrayList<>();
        for (String k : startup.parameters().keySet()) {
            if (k.startsWith("_pq_.")) {
                unsupported.add(k);
            }
        }
        if (startup.minorVersion() == 0 && unsupported.isEmpty()) {
            return;
        }
        ByteBuf b = channel.alloc().buffer();
        int len = dev.sluice.protocol.Wire.beginMessage(b, MessageType.NEGOTIATE_PROTOCOL_VERSION);
        b.writeInt(0); // newest minor version supported
        b.writeInt(unsupported.size());
        for (String o : unsupported) {
            dev.sluice.protocol.Wire.writeCString(b, o);
        }
        dev.sluice.protocol.Wire.endMessage(b, len);
        channel.write(b);
    }

    private void onAuthStep(ClientAuthenticator.Step step) {
        if (step instanceof ClientAuthenticator.Step.Send send) {
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), send.message()));
        } else if (step instanceof ClientAuthenticator.Step.Failure f) {
            log.info("client {} failed authentication: {}", describe(), f.error().message());
            metrics.authFailed(user, database, channel.remoteAddress());
            proxy.loginGuard().authFailed(channel.remoteAddress(), System.nanoTime());
            java.time.Duration delay = proxy.settings().loginGuard().authFailureDelay();
            if (delay.isZero()) {
                fatal(f.error(), DisconnectReason.AUTH_FAILED);
                return;
            }
            // auth_failure_delay: a password guesser waits before each answer; a timer, never a sleep, so the
            // event loop goes on serving everyone else. The connection keeps its max_startup_connections slot.
            authFailed = true;
            channel.config().setAutoRead(false);
            channel.eventLoop().schedule(() -> fatal(f.error(), DisconnectReason.AUTH_FAILED),
                    delay.toMillis(), TimeUnit.MILLISECONDS);
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
        leaveStartup();
        if (console) {
            // The admin console takes this connection over: it checks admin_users/stats_users and answers.
            if (loginTimer != null) {
                loginTimer.cancel(false);
                loginTimer = null;
            }
            state = State.CLOSED;
            proxy.clientClosed(this);
            proxy.openConsole(channel, id, user, requested);
            return;
        }
        if (!joinWorkload(requested.getOrDefault("application_name", ""))) {
            return;
        }
        pool = proxy.pools().poolFor(db, user);
        mode = pool.mode();
        if (mode != PoolMode.SESSION && proxy.settings().maxPreparedStatements() > 0) {
            tracker = new ResponseTracker();
        }
        if (scramClientKey != null && scramServerKey != null && db.user() == null) {
            pool.offerScramKeys(scramClientKey, scramServerKey);
        }
        channel.write(PgMessage.encodeAll(channel.alloc(), Authentication.ok()));
        state = State.WELCOME;
        if (mode == PoolMode.SESSION) {
            // Session mode is the real session: the client gets its server now, and that backend's pid in
            // BackendKeyData (pg_backend_pid() and lock monitoring match), with a secret of Sluice's own.
            channel.flush();
            requestServer();
            return;
        }
        cancelKey = proxy.cancelRegistry().register(this);
        if (pool.welcomeParameters() != null) {
            fillDesired(pool.welcomeParameters());
            sendWelcome();
        } else {
            // No server of this pool has logged in yet: we need one to learn the server's parameters.
            channel.flush();
            requestServer();
        }
    }

    /**
     * Classifies this client (user, database, application_name, address) and counts it in its workload;
     * a workload at max_clients refuses the login with a message naming it: the leaking job hits its own
     * wall while everyone else keeps working.
     */
    private boolean joinWorkload(String applicationName) {
        java.net.InetAddress addr = channel.remoteAddress() instanceof InetSocketAddress i ? i.getAddress() : null;
        Workload w = proxy.pools().workloads().classify(user, database, applicationName, addr);
        if (w == workload) {
            return true;
        }
        if (!w.tryAddClient()) {
            proxy.leakRefused(new dev.sluice.guard.LeakDetector.Source(w.name(), applicationName == null ? ""
                    : applicationName, user, channel.remoteAddress() instanceof InetSocketAddress i
                    && i.getAddress() != null ? i.getAddress().getHostAddress() : "unix"));
            fatal(ErrorResponse.fatal(SqlState.TOO_MANY_CONNECTIONS, "sluice: workload \"" + w.name() + "\" has "
                    + w.config().maxClients() + " client connections (max_clients); close unused connections",
                    "Each connection of this workload stays open; look for connections the application never closes"
                            + " (SHOW CLIENTS)."), DisconnectReason.WORKLOAD_MAX_CLIENTS);
            return false;
        }
        if (countedInWorkload) {
            workload.removeClient();
        }
        workload = w;
        countedInWorkload = true;
        return true;
    }

    /** Client's requested settings over the server's defaults for the parameters every client must have. */
    private void fillDesired(Map<String, String> welcome) {
        desired.clear();
        for (String k : StartupParameters.TRACKED) {
            String v = welcome == null ? null : welcome.get(k);
            if (v != null) {
                desired.put(k, v);
            }
        }
        desired.putAll(requested);
    }

    private void sendWelcome() {
        if (cancelKey == null) {
            // Session mode: the server's real process id; the secret is ours, so a key learnt by an earlier
            // owner of this server (or sent straight to PostgreSQL) cancels nothing.
            cancelKey = server != null && server.backendKey() != null
                    ? proxy.cancelRegistry().registerWithPid(this, server.backendKey().processId())
                    : proxy.cancelRegistry().register(this);
        }
        // Session mode: the real session's parameters, as its server reported them at login.
        Map<String, String> shown = new LinkedHashMap<>(mode == PoolMode.SESSION && server != null
                ? server.parameters() : pool.welcomeParameters());
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
        if (events != null) {
            events.opened(this);
        }
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null; // a cancelled task kept referenced costs every idle client its bytes
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
        if (events != null) {
            events.clientMessage(this, type);
        }
        if (type == MessageType.QUERY || type == MessageType.PARSE) {
            rememberStatement(type, frame);
            if (mode != PoolMode.SESSION) {
                if ((!sessionDirty || mayPin()) && SessionState.textMayChangeSession(frame)) {
                    sessionDirty = true;
                    if (mayPin()) {
                        pin(SessionState.textPinReason(frame));
                    }
                }
                noteSessionSetting(type, frame);
            }
        }
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
        if (server == null && !waiting && pending.isEmpty() && txnStatus == ReadyForQuery.IDLE) {
            if (type == MessageType.QUERY && answerLocally(frame)) {
                return;
            }
            if (tracker != null && answerWithoutServer(type, frame)) {
                return;
            }
        }
        queue(frame);
        if (server == null && !waiting) {
            requestServer();
        }
    }

    private void rememberStatement(byte type, ByteBuf frame) {
        int from = frame.readerIndex() + 5;
        if (type == MessageType.PARSE) {
            from = frame.indexOf(from, frame.writerIndex(), (byte) 0) + 1; // skip the statement name
            if (from <= 0) {
                return;
            }
        }
        int end = frame.indexOf(from, Math.min(frame.writerIndex(), from + 120), (byte) 0);
        int len = (end < 0 ? Math.min(frame.writerIndex(), from + 120) : end) - from;
        byte[] b = new byte[Math.max(0, len)];
        frame.getBytes(from, b);
        lastStatement = b;
    }

    /**
     * Transaction mode: a plain {@code SET name = value} (or {@code RESET name}) the client sends is carried
     * with it, so later transactions on other servers see the setting as they would on one connection.
     * It takes effect when the statement's ReadyForQuery comes back without an error.
     */
    private void noteSessionSetting(byte type, ByteBuf frame) {
        int from = frame.readerIndex() + 5;
        if (type == MessageType.PARSE) {
            from = frame.indexOf(from, frame.writerIndex(), (byte) 0) + 1;
            if (from <= 0) {
                return;
            }
        }
        if (!LocalStatements.startsWithSetOrReset(frame, from) && !LocalStatements.startsWithDiscard(frame, from)) {
            return; // cheap exit on the raw bytes: not SET, RESET or DISCARD
        }
        int end = frame.indexOf(from, frame.writerIndex(), (byte) 0);
        if (end < 0) {
            return;
        }
        String[] setting = LocalStatements.sessionSetting(frame.toString(from, end - from,
                java.nio.charset.StandardCharsets.UTF_8));
        if (setting != null) {
            pendingSetting = setting;
            pendingSettingFailed = false;
        }
    }

    /** What the leak detector needs to know about this client; null before login completes. */
    public dev.sluice.guard.LeakDetector.ClientView leakView(long now) {
        Workload w = workload;
        if (state != State.READY || w == null) {
            return null;
        }
        // Idle: no server and not waiting, or holding a server inside a transaction with nothing in flight
        // (a connection left in an open transaction is leaked too).
        boolean idle = (server == null && !waiting) || (server != null && outstanding == 0 && !syncing
                && (txnStatus != ReadyForQuery.IDLE || pinReason != null));
        byte[] stmt = lastStatement;
        String addr = channel.remoteAddress() instanceof InetSocketAddress i && i.getAddress() != null
                ? i.getAddress().getHostAddress() : "unix";
        return new dev.sluice.guard.LeakDetector.ClientView(
                new dev.sluice.guard.LeakDetector.Source(w.name(), applicationName(), user, addr),
                idle, idle ? now - lastActivityNanos : 0,
                stmt == null ? null : () -> new String(stmt, java.nio.charset.StandardCharsets.UTF_8).replaceAll("\\s+", " "));
    }

    /**
     * Answers, without a server, the one statement drivers send right after login: pgjdbc's
     * {@code SET application_name = '...'}. PostgreSQL would reply CommandComplete, ParameterStatus,
     * ReadyForQuery; so do we, and the value is applied on the next server this client leases. Without
     * this, a client could not even finish connecting while its pool is exhausted.
     */
    private boolean answerLocally(ByteBuf frame) {
        if (!LocalStatements.startsWithSet(frame, frame.readerIndex() + 5)) {
            return false; // every other statement: decided on the raw bytes, nothing decoded
        }
        String sql = dev.sluice.protocol.FrontendMessages.Query.sqlOf(frame);
        String value = LocalStatements.applicationNameSet(sql);
        if (value == null) {
            return false;
        }
        frame.release();
        if (!value.equals(desired.get("application_name")) && !joinWorkload(value)) {
            return true; // refused by its new workload's max_clients; the connection is closing
        }
        desired.put("application_name", value);
        channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(),
                new dev.sluice.protocol.BackendMessages.CommandComplete("SET"),
                new ParameterStatus("application_name", value), ReadyForQuery.IDLE_RFQ));
        return true;
    }

    /**
     * Transaction mode, no server held, nothing in flight: a named Parse, a Close of a named statement, a
     * Flush or a Sync need no server. Answering them here is what keeps a client that prepares with
     * PQprepare (Parse + Sync, blocking) from waiting for a server just to learn that its statement is
     * registered; the statement is prepared on a server right before its first Bind or Describe. A
     * statement with a syntax error therefore reports it at first use rather than at Parse.
     */
    private boolean answerWithoutServer(byte type, ByteBuf frame) {
        switch (type) {
            case MessageType.PARSE -> {
                int nameEnd = cstringEnd(frame, frame.readerIndex() + 5);
                if (nameEnd == frame.readerIndex() + 5) {
                    return false; // unnamed: goes with its Bind to a server
                }
                String name = frame.toString(frame.readerIndex() + 5, nameEnd - frame.readerIndex() - 5,
                        java.nio.charset.StandardCharsets.UTF_8);
                byte[] body = new byte[frame.writerIndex() - nameEnd - 1];
                frame.getBytes(nameEnd + 1, body);
                statements.put(name, proxy.preparedStatements().intern(body));
                frame.release();
                channel.write(PgMessage.encodeAll(channel.alloc(), SyntheticReplies.PARSE_COMPLETE), channel.voidPromise());
                unflushed = true;
                return true;
            }
            case MessageType.CLOSE -> {
                if (ClientFrames.targetKind(frame) != 'S') {
                    return false;
                }
                int nameEnd = cstringEnd(frame, frame.readerIndex() + 6);
                String name = frame.toString(frame.readerIndex() + 6, nameEnd - frame.readerIndex() - 6,
                        java.nio.charset.StandardCharsets.UTF_8);
                if (statements.remove(name) == null) {
                    return false; // not ours to answer: PostgreSQL's reply (CloseComplete) is the same, let it
                }
                frame.release();
                channel.write(PgMessage.encodeAll(channel.alloc(), SyntheticReplies.CLOSE_COMPLETE), channel.voidPromise());
                unflushed = true;
                return true;
            }
            case MessageType.SYNC -> {
                // Everything since the last Sync was answered here, so the client is idle, outside a transaction.
                frame.release();
                channel.write(PgMessage.encodeAll(channel.alloc(), ReadyForQuery.IDLE_RFQ), channel.voidPromise());
                unflushed = true;
                return true;
            }
            case MessageType.FLUSH -> {
                frame.release();
                if (unflushed) {
                    channel.flush();
                    unflushed = false;
                }
                return true;
            }
            default -> {
                return false;
            }
        }
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
        if (tracker != null) {
            forwardTracked(type, frame);
        } else {
            server.write(frame);
        }
        if (!server.isWritable()) {
            channel.config().setAutoRead(false);
        }
    }

    // ---- prepared statements in transaction mode ----

    /**
     * Forwards one frame in transaction mode, rewriting the client's statement names to the shared
     * server-side ones and making sure the statement exists on this server before it is used.
     */
    private void forwardTracked(byte type, ByteBuf frame) {
        switch (type) {
            case MessageType.PARSE -> {
                int nameEnd = cstringEnd(frame, frame.readerIndex() + 5);
                if (nameEnd == frame.readerIndex() + 5) { // unnamed statement: passes through
                    tracker.expect(ResponseTracker.Kind.PARSE);
                    server.write(frame);
                    return;
                }
                String name = frame.toString(frame.readerIndex() + 5, nameEnd - frame.readerIndex() - 5,
                        java.nio.charset.StandardCharsets.UTF_8);
                byte[] body = new byte[frame.writerIndex() - nameEnd - 1];
                frame.getBytes(nameEnd + 1, body);
                frame.release();
                PreparedStatementRegistry.Statement st = proxy.preparedStatements().intern(body);
                statements.put(name, st);
                if (server.preparedStatements().get(st.serverName()) != null) {
                    tracker.expect(ResponseTracker.Kind.PARSE_SYNTH);
                } else {
                    prepareOnServer(st, ResponseTracker.Kind.PARSE);
                }
            }
            case MessageType.BIND -> {
                int portalEnd = cstringEnd(frame, frame.readerIndex() + 5);
                int stmtEnd = cstringEnd(frame, portalEnd + 1);
                PreparedStatementRegistry.Statement st = stmtEnd == portalEnd + 1 ? null
                        : statements.get(frame.toString(portalEnd + 1, stmtEnd - portalEnd - 1,
                        java.nio.charset.StandardCharsets.UTF_8));
                if (st == null) {
                    tracker.expect(ResponseTracker.Kind.BIND);
                    server.write(frame);
                    return;
                }
                ensurePrepared(st);
                server.write(renamed(frame, portalEnd + 1, stmtEnd, st.serverName()));
                tracker.expect(ResponseTracker.Kind.BIND);
            }
            case MessageType.DESCRIBE, MessageType.CLOSE -> {
                byte kind = ClientFrames.targetKind(frame);
                int nameEnd = cstringEnd(frame, frame.readerIndex() + 6);
                PreparedStatementRegistry.Statement st = kind != 'S' || nameEnd == frame.readerIndex() + 6 ? null
                        : statements.get(frame.toString(frame.readerIndex() + 6, nameEnd - frame.readerIndex() - 6,
                        java.nio.charset.StandardCharsets.UTF_8));
                boolean describe = type == MessageType.DESCRIBE;
                if (st == null) {
                    tracker.expect(describe ? ResponseTracker.Kind.DESCRIBE : ResponseTracker.Kind.CLOSE);
                    server.write(frame);
                    return;
                }
                if (describe) {
                    ensurePrepared(st);
                    server.write(renamed(frame, frame.readerIndex() + 6, nameEnd, st.serverName()));
                    tracker.expect(ResponseTracker.Kind.DESCRIBE);
                } else {
                    // The client's name goes; the shared server-side statement stays for others.
                    statements.remove(frame.toString(frame.readerIndex() + 6, nameEnd - frame.readerIndex() - 6,
                            java.nio.charset.StandardCharsets.UTF_8));
                    frame.release();
                    tracker.expect(ResponseTracker.Kind.CLOSE_SYNTH);
                }
            }
            case MessageType.EXECUTE -> {
                tracker.expect(ResponseTracker.Kind.EXECUTE);
                server.write(frame);
            }
            case MessageType.SYNC -> {
                tracker.expect(ResponseTracker.Kind.SYNC);
                server.write(frame);
            }
            case MessageType.QUERY, MessageType.FUNCTION_CALL -> {
                tracker.expect(ResponseTracker.Kind.QUERY);
                server.write(frame);
            }
            default -> server.write(frame);
        }
    }

    private void ensurePrepared(PreparedStatementRegistry.Statement st) {
        if (server.preparedStatements().get(st.serverName()) == null) {
            prepareOnServer(st, ResponseTracker.Kind.PARSE_SWALLOW);
        }
    }

    /** Sends Parse for a shared statement, first evicting the least recently used one at max_prepared_statements. */
    private void prepareOnServer(PreparedStatementRegistry.Statement st, ResponseTracker.Kind kind) {
        var cache = server.preparedStatements();
        int max = proxy.settings().maxPreparedStatements();
        while (cache.size() >= max && !cache.isEmpty()) {
            String eldest = cache.keySet().iterator().next();
            cache.remove(eldest);
            server.write(closeStatement(eldest));
            tracker.expect(ResponseTracker.Kind.CLOSE_SWALLOW, eldest);
        }
        ByteBuf parse = channel.alloc().buffer(5 + st.serverName().length() + 1 + st.parseBody().length);
        int len = dev.sluice.protocol.Wire.beginMessage(parse, MessageType.PARSE);
        dev.sluice.protocol.Wire.writeCString(parse, st.serverName());
        parse.writeBytes(st.parseBody());
        dev.sluice.protocol.Wire.endMessage(parse, len);
        server.write(parse);
        cache.put(st.serverName(), Boolean.TRUE);
        tracker.expect(kind, st.serverName());
    }

    private ByteBuf closeStatement(String serverName) {
        ByteBuf b = channel.alloc().buffer();
        int len = dev.sluice.protocol.Wire.beginMessage(b, MessageType.CLOSE);
        b.writeByte('S');
        dev.sluice.protocol.Wire.writeCString(b, serverName);
        dev.sluice.protocol.Wire.endMessage(b, len);
        return b;
    }

    /** A copy of {@code frame} with the NUL-terminated name at [nameStart, nameEnd) replaced. */
    private ByteBuf renamed(ByteBuf frame, int nameStart, int nameEnd, String newName) {
        byte[] nameBytes = newName.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int newLength = frame.readableBytes() - (nameEnd - nameStart) + nameBytes.length;
        ByteBuf out = channel.alloc().buffer(newLength);
        out.writeBytes(frame, frame.readerIndex(), nameStart - frame.readerIndex());
        out.writeBytes(nameBytes);
        out.writeBytes(frame, nameEnd, frame.writerIndex() - nameEnd);
        out.setInt(1, newLength - 1);
        frame.release();
        return out;
    }

    /** Index of the NUL ending the string that starts at {@code from}; a missing NUL is a protocol violation. */
    private static int cstringEnd(ByteBuf frame, int from) {
        return ClientFrames.cstringEnd(frame, from);
    }

    /** Sends the replies Sluice owes the client itself, when they are next in line. */
    private void emitSynthetic() {
        PgMessage m;
        while (tracker != null && (m = tracker.nextSynthetic()) != null) {
            toClient.add(PgMessage.encodeAll(channel.alloc(), m));
        }
    }

    private void requestServer() {
        var breaker = state == State.READY ? workload.breaker() : null;
        if (breaker != null) {
            if (!breaker.tryAcquirePermission()) {
                workload.countShedByBreaker();
                var b = workload.config().breaker();
                float rate = breaker.getMetrics().getFailureRate();
                log.info("client {}: reason={} workload={}", describe(), "workload_breaker_open", workload.name());
                failPending(ErrorResponse.error("ERROR", SqlState.CANNOT_CONNECT_NOW, "sluice: workload \""
                        + workload.name() + "\" is shed for " + humanDuration(b.openFor()) + " after "
                        + (rate < 0 ? b.failureRate() : Math.round(rate)) + "% of recent requests failed",
                        null, "Its requests kept timing out waiting for a server connection (circuit breaker);"
                                + " retry later, or reduce this workload's load."));
                return;
            }
            breakerPermitNanos = System.nanoTime();
        }
        waiting = true;
        waitStartNanos = 0;
        ServerConnection s = proxy.pools().acquire(pool, this);
        if (s != null) {
            serverLeased(s);
            return;
        }
        if (waiting && state == State.READY) {
            if (!workload.tryQueue()) {
                // A bounded queue: a workload that already has max_queue clients waiting is refused at once.
                proxy.pools().cancelWait(pool, this);
                waiting = false;
                breakerOutcome(new IllegalStateException("max_queue"));
                log.info("client {}: reason={} workload={}", describe(), "workload_max_queue", workload.name());
                failPending(ErrorResponse.error("ERROR", SqlState.TOO_MANY_CONNECTIONS, "sluice: workload \""
                        + workload.name() + "\" already has " + workload.config().maxQueue()
                        + " clients waiting for a server connection (max_queue)", null,
                        "Retry later, or reduce this workload's concurrency."));
                return;
            }
            queuedInWorkload = true;
        }
        if (waiting) {
            waitStartNanos = lastActivityNanos; // the request that needs the server arrived then
            java.time.Duration t = workload.config().queueTimeout() != null ? workload.config().queueTimeout()
                    : proxy.settings().queryWaitTimeout();
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
        String reason = proxy.pools().waitReason(pool, workload);
        proxy.pools().cancelWait(pool, this);
        stopWaiting();
        metrics.waitEnded(workload, waitStartNanos == 0 ? 0 : System.nanoTime() - waitStartNanos);
        workload.countQueueTimeout();
        breakerOutcome(new java.util.concurrent.TimeoutException(reason));
        boolean own = workload.config().queueTimeout() != null;
        java.time.Duration waited = own ? workload.config().queueTimeout() : proxy.settings().queryWaitTimeout();
        String setting = own ? "queue_timeout of workload \"" + workload.name() + "\"" : "query_wait_timeout";
        ErrorResponse err = ErrorResponse.error("ERROR", SqlState.TOO_MANY_CONNECTIONS,
                "sluice: " + reason + "; waited " + humanDuration(waited) + " (" + setting + ")",
                null, "Shorten transactions, raise the limit, or find the clients holding connections (SHOW CLIENTS).");
        log.info("client {}: reason={} workload={} after {}: {}", describe(), "query_wait_timeout", workload.name(),
                humanDuration(waited), reason);
        if (state == State.WELCOME) {
            fatal(ErrorResponse.error("FATAL", err.sqlState(), err.message(), null, err.fields().get('H')),
                    DisconnectReason.SERVER_LOGIN_FAILED);
            return;
        }
        failPending(err);
    }

    private void stopWaiting() {
        waiting = false;
        if (queuedInWorkload) {
            queuedInWorkload = false;
            workload.dequeue();
        }
    }

    /** Tells the workload's circuit breaker how the wait for a server ended (null: a server was leased). */
    private void breakerOutcome(Throwable failure) {
        if (breakerPermitNanos == 0) {
            return;
        }
        long waited = System.nanoTime() - breakerPermitNanos;
        breakerPermitNanos = 0;
        var breaker = workload.breaker();
        if (failure == null) {
            breaker.onSuccess(waited, TimeUnit.NANOSECONDS);
        } else {
            breaker.onError(waited, TimeUnit.NANOSECONDS, failure);
        }
    }

    private static String humanDuration(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    @Override
    public void serverLeased(ServerConnection s) {
        if (state == State.CLOSED || !waiting) {
            // Closed (or timed out) while the server was on its way: give it straight back.
            proxy.pools().release(pool, s);
            return;
        }
        stopWaiting();
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
        metrics.leased(workload, waited);
        breakerOutcome(null);
        server = s;
        serverSentFatal = false;
        s.setOwner(this);
        if (state == State.WELCOME && pool.welcomeParameters() != null && desired.isEmpty()) {
            fillDesired(pool.welcomeParameters());
        }
        Settings st = proxy.settings();
        String check = st.serverCheckQuery();
        if (check != null && !check.isBlank()
                && System.nanoTime() - s.idleSinceNanos() >= st.serverCheckDelay().toNanos()
                && System.nanoTime() - s.createdNanos() >= st.serverCheckDelay().toNanos()) {
            // server_check_query: a server idle longer than server_check_delay may have died meanwhile.
            syncing = true;
            s.runInternal(check, st.queryTimeout(), (srv, err) -> eventLoop().execute(() -> checkDone(srv, err)));
            return;
        }
        syncAndLink(s);
    }

    private void checkDone(ServerConnection s, ErrorResponse err) {
        syncing = false;
        if (state == State.CLOSED || s != server) {
            return;
        }
        if (err != null) {
            log.info("server {} failed server_check_query ({}); trying another", s, err.message());
            server = null;
            proxy.pools().discard(pool, s, DisconnectReason.SERVER_CHECK_FAILED);
            requestServer();
            return;
        }
        syncAndLink(s);
    }

    /** Makes the server's session match this client's settings, then starts forwarding. */
    private void syncAndLink(ServerConnection s) {
        if (mode == PoolMode.SESSION) {
            // The server was opened with this client's startup parameters: its session is already the one
            // the client asked for, with them as its defaults. Nothing to SET.
            desired.clear();
            desired.putAll(requested);
            desired.putAll(s.parameters());
            linked();
            return;
        }
        String sync = syncStatements(s);
        if (sync.isEmpty()) {
            linked();
            return;
        }
        syncing = true;
        s.runInternal(sync, proxy.settings().queryTimeout(),
                (srv, err) -> eventLoop().execute(() -> syncDone(srv, err)));
    }

    /** SET/RESET statements that make the server's session match what this client expects. */
    private String syncStatements(ServerConnection s) {
        StringBuilder sql = null; // made only when something differs: usually nothing does
        Map<String, String> reported = s.parameters();
        Map<String, String> applied = s.applied();
        for (Map.Entry<String, String> e : desired.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            String r = reported.get(k);
            if (r != null || reported.containsKey(k)) {
                if (!v.equals(r)) {
                    sql = append(sql, StartupParameters.set(k, v));
                }
                if (!StartupParameters.TRACKED.contains(k)) {
                    applied.put(k, v); // e.g. default_transaction_read_only: reset for a client that lacks it
                }
            } else if (!v.equals(applied.get(k))) {
                sql = append(sql, StartupParameters.set(k, v));
                applied.put(k, v);
            }
        }
        if (!applied.isEmpty()) {
            for (java.util.Iterator<String> it = applied.keySet().iterator(); it.hasNext(); ) {
                String k = it.next();
                if (!desired.containsKey(k)) {
                    sql = append(sql, StartupParameters.reset(k));
                    it.remove();
                }
            }
        }
        return sql == null ? "" : sql.toString();
    }

    private static StringBuilder append(StringBuilder sql, String statement) {
        return (sql == null ? new StringBuilder() : sql).append(statement);
    }

    private void syncDone(ServerConnection s, ErrorResponse err) {
        syncing = false;
        if (state == State.CLOSED || s != server) {
            return;
        }
        if (err != null && err.isFatal()) {
            // The server died or hung (PostgreSQL restarting, query_timeout) before anything of the client's
            // was sent to it: not the client's settings' fault, and safe to go on with another server.
            log.info("server {} was lost while applying this client's settings ({}); trying another", s,
                    err.message());
            server = null;
            proxy.pools().discard(pool, s, DisconnectReason.SERVER_FATAL);
            requestServer();
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
            if (!inReadBurst) {
                // Leased from a timer or the pool's callback: nothing else will flush. Inside a read burst the
                // rest of the burst follows and channelReadComplete flushes it all at once (flushing here sent
                // a Bind alone, then Execute/Sync: two writes and two server wake-ups per transaction).
                server.flush();
            }
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
        stopWaiting();
        if (waitTimer != null) {
            waitTimer.cancel(false);
            waitTimer = null;
        }
        breakerOutcome(new IllegalStateException(error.message()));
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
            if (tracker != null) {
                emitSynthetic();
                if (!tracker.onServerFrame(f, s)) {
                    f.release(); // the reply to a Parse or Close Sluice injected
                    continue;
                }
                if (tracker.takeDiscarded()) {
                    statements.clear(); // DISCARD ALL / DEALLOCATE ALL succeeded: the client's names are gone
                }
            }
            switch (type) {
                case MessageType.READY_FOR_QUERY -> {
                    byte newStatus = ReadyForQuery.statusOf(f);
                    if (pendingSetting != null) {
                        // Only a SET that committed on its own: one inside a transaction block may still roll back.
                        if (!pendingSettingFailed && newStatus == ReadyForQuery.IDLE && txnStatus == ReadyForQuery.IDLE) {
                            carrySetting(pendingSetting);
                        }
                        pendingSetting = null;
                    }
                    if (txnStatus == ReadyForQuery.IDLE && newStatus != ReadyForQuery.IDLE) {
                        txnStartNanos = queryStartNanos;
                    }
                    txnStatus = newStatus;
                    if (outstanding > 0) {
                        outstanding--;
                    }
                    countReadyForQuery();
                    if (events != null) {
                        events.readyForQuery(this, txnStatus);
                    }
                }
                case MessageType.PARAMETER_STATUS -> {
                    ParameterStatus ps = ParameterStatus.decodeFrame(f);
                    s.parameters().put(ps.name(), ps.value());
                    if (desired.containsKey(ps.name()) || StartupParameters.TRACKED.contains(ps.name())) {
                        desired.put(ps.name(), ps.value());
                    }
                }
                case MessageType.ERROR_RESPONSE -> {
                    pendingSettingFailed = true;
                    if (ErrorResponse.decodeFrame(f).isFatal()) {
                        serverSentFatal = true;
                    }
                }
                case MessageType.COMMAND_COMPLETE -> {
                    if (mode != PoolMode.SESSION && (!sessionDirty || mayPin()) && SessionState.changesSession(f)) {
                        sessionDirty = true;
                        if (mayPin()) {
                            byte[] stmt = lastStatement;
                            pin(SessionState.pinReason(f, pendingSetting != null, stmt == null ? ""
                                    : new String(stmt, java.nio.charset.StandardCharsets.UTF_8)));
                        }
                    }
                }
                default -> { }
            }
            statSent += f.readableBytes();
            toClient.add(f);
        }
        emitSynthetic();
        toClient.writeCollected();
        channel.flush();
        // A flush to a client that just vanished closes this session inside flush(), and close() hands the
        // server back: only a server still ours may be paused, or it would sit in the pool unread.
        if (s == server && !channel.isWritable()) {
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
            metrics.queryEnded(now - queryStartNanos, pool, workload);
        }
        if (txnStatus == ReadyForQuery.IDLE && outstanding == 0) {
            metrics.transactionEnded(xactStartNanos == 0 ? 0 : now - xactStartNanos, pool, workload);
            pool.stats().transaction(statQueries, xactStartNanos == 0 ? 0 : now - xactStartNanos, statQueryNanos,
                    statReceived, statSent);
            xactStartNanos = 0;
            statQueries = 0;
            statQueryNanos = 0;
            statReceived = 0;
            statSent = 0;
        }
    }

    /** {@code settings}: {name, value} pairs from {@link LocalStatements#sessionSetting}, value null for a reset. */
    private void carrySetting(String[] settings) {
        for (int i = 0; i + 1 < settings.length; i += 2) {
            carrySetting(settings[i], settings[i + 1]);
        }
    }

    private void carrySetting(String name, String value) {
        if (name.equals(LocalStatements.ALL)) {
            // RESET ALL / DISCARD ALL: every carried SET is gone; the session defaults are this client's
            // startup parameters over the server's, as on a direct connection.
            server.applied().clear();
            fillDesired(pool.welcomeParameters());
            restoreStartupParameters();
            return;
        }
        if (value == null) {
            // RESET name (or SET name TO DEFAULT): back to the session default, which for a startup parameter
            // is the client's own value, else the server's.
            server.applied().remove(name);
            if (requested.containsKey(name)) {
                desired.put(name, requested.get(name));
                restoreStartupParameters();
            } else {
                desired.remove(name);
            }
            return;
        }
        String reported = server.parameters().get(name);
        if (reported != null) {
            desired.put(name, reported); // a reported parameter: as PostgreSQL spelled it in ParameterStatus
            if (!StartupParameters.TRACKED.contains(name)) {
                server.applied().put(name, reported);
            }
            return;
        }
        String sql = StartupParameters.RAW + value;
        desired.put(name, sql);
        if (server != null) {
            server.applied().put(name, sql); // this server has it now
        }
    }

    /**
     * Transaction mode, after the client's RESET / RESET ALL / DISCARD ALL: PostgreSQL put the server's
     * defaults back, so this client's startup parameters are set again on the same server before anything
     * else runs on it; the client is told the reported ones (ParameterStatus), as it would be directly.
     */
    private void restoreStartupParameters() {
        ServerConnection s = server;
        String sql = syncStatements(s);
        if (sql.isEmpty()) {
            return;
        }
        Map<String, String> before = new java.util.HashMap<>(s.parameters());
        syncing = true;
        s.runInternal(sql, proxy.settings().queryTimeout(), (srv, err) -> eventLoop().execute(() -> {
            if (err == null && srv == server && state != State.CLOSED) {
                for (Map.Entry<String, String> e : srv.parameters().entrySet()) {
                    if (!e.getValue().equals(before.get(e.getKey()))) {
                        channel.write(PgMessage.encodeAll(channel.alloc(), new ParameterStatus(e.getKey(), e.getValue())),
                                channel.voidPromise());
                    }
                }
                channel.flush();
            }
            syncDone(srv, err);
        }));
    }

    /** pin_on_session_state is on and this client is not pinned yet. */
    private boolean mayPin() {
        return pinReason == null && proxy.settings().pinOnSessionState();
    }

    /** pin_on_session_state: this client keeps its server until it disconnects; the server is reset then. */
    private void pin(String reason) {
        if (reason == null) {
            return;
        }
        pinReason = reason;
        metrics.pinned(pool, reason);
        log.info("client {}: pinned to server {} until it disconnects: reason={} (pin_on_session_state)", describe(),
                server, reason);
    }

    /** In transaction mode, the server goes back to the pool at the end of each transaction. */
    private void maybeRelease() {
        if (mode == PoolMode.SESSION || pinReason != null || server == null || syncing || outstanding > 0 || unsynced
                || txnStatus != ReadyForQuery.IDLE || !pending.isEmpty() || state != State.READY
                || (tracker != null && !tracker.isEmpty())) {
            return;
        }
        ServerConnection s = server;
        if (inReadBurst) {
            s.flush(); // what linked() left for channelReadComplete must leave before the server is handed back
        }
        server = null;
        s.setAutoRead(true);
        if (sessionDirty) {
            // SET, LISTEN, temp table, advisory lock...: reset before the next client; this client's reported
            // settings (application_name, TimeZone, ...) are re-applied on its next lease from `desired`.
            sessionDirty = false;
            resetAndRelease(s);
        } else {
            proxy.pools().release(pool, s);
        }
        channel.config().setAutoRead(true);
    }

    private void resetAndRelease(ServerConnection s) {
        statements.clear(); // DISCARD ALL drops the server's prepared statements, and PostgreSQL would too
        s.runInternal("DISCARD ALL", proxy.settings().queryTimeout(), (srv, err) -> {
            if (err != null) {
                log.warn("reset after session change failed on {}: {}", srv, err);
                proxy.pools().discard(pool, srv, DisconnectReason.CLEANUP_FAILED);
                return;
            }
            srv.applied().clear();
            srv.preparedStatements().clear();
            proxy.pools().release(pool, srv);
        });
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
            // Like PgBouncer: the client is told and disconnected; its server, mid-query, is closed, not reused
            // (with query_timeout as the server's reason: it may be hung, not just slow).
            ServerConnection s = server;
            server = null;
            proxy.pools().discard(pool, s, DisconnectReason.QUERY_TIMEOUT);
            fatal(ErrorResponse.fatal(SqlState.QUERY_CANCELED, "sluice: closed: query ran longer than "
                    + humanDuration(st.queryTimeout()) + " (query_timeout)"), DisconnectReason.QUERY_TIMEOUT);
            return;
        }
        java.time.Duration txTimeout = workload != null ? workload.config().transactionTimeout() : null;
        if (txTimeout != null && !txTimeout.isZero() && server != null && txnStatus != ReadyForQuery.IDLE
                && now - txnStartNanos > txTimeout.toNanos()) {
            fatal(ErrorResponse.fatal("25P04", "sluice: closed: transaction ran longer than " + humanDuration(txTimeout)
                    + " (transaction_timeout of workload \"" + workload.name() + "\")",
                    "The transaction was rolled back; keep transactions short."), DisconnectReason.TRANSACTION_TIMEOUT);
            return;
        }
        java.time.Duration idleTx = workload != null && workload.config().idleTransactionTimeout() != null
                ? workload.config().idleTransactionTimeout() : st.idleTransactionTimeout();
        if (server != null && outstanding == 0 && !syncing && txnStatus != ReadyForQuery.IDLE
                && !idleTx.isZero() && now - lastActivityNanos > idleTx.toNanos()) {
            fatal(ErrorResponse.fatal(SqlState.IDLE_IN_TRANSACTION_SESSION_TIMEOUT,
                    "sluice: closed: idle in transaction for " + humanDuration(idleTx) + " (idle_transaction_timeout"
                            + (idleTx == st.idleTransactionTimeout() ? "" : " of workload \"" + workload.name() + "\"")
                            + ")", "The transaction was rolled back; commit or roll back promptly."),
                    DisconnectReason.IDLE_TRANSACTION_TIMEOUT);
            return;
        }
        java.time.Duration idle = workload != null && workload.config().clientIdleTimeout() != null
                ? workload.config().clientIdleTimeout() : st.clientIdleTimeout();
        if (!waiting && outstanding == 0 && txnStatus == ReadyForQuery.IDLE && !idle.isZero()
                && now - lastActivityNanos > idle.toNanos()) {
            fatal(ErrorResponse.fatal(SqlState.IDLE_SESSION_TIMEOUT, "sluice: closed: client idle for "
                    + humanDuration(idle) + " (client_idle_timeout)"), DisconnectReason.CLIENT_IDLE_TIMEOUT);
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
                    || txnStatus != ReadyForQuery.IDLE || (tracker != null && !tracker.isEmpty()))) {
                return; // mid-transaction: let it finish
            }
            fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                    "sluice: terminating connection because the proxy is shutting down"), DisconnectReason.SHUTDOWN);
        });
    }

    /**
     * Sluice is shutting down: tell the client (57P01, as PostgreSQL does) and close, waiting briefly. The
     * returned future completes when its socket is closed.
     */
    public Future<Void> closeForShutdown() {
        if (channel == null) {
            return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        }
        channel.eventLoop().submit(() -> fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN,
                "sluice: terminating connection because the proxy is shutting down"), DisconnectReason.SHUTDOWN))
                .awaitUninterruptibly(2, TimeUnit.SECONDS);
        return channel.closeFuture();
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

    /** This connection no longer counts against max_startup_connections (logged in, or closing). */
    private void leaveStartup() {
        if (inStartup) {
            inStartup = false;
            proxy.loginGuard().startupEnded(startupAddress);
        }
    }

    private void closeQuietly(DisconnectReason reason) {
        leaveStartup();
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
        leaveStartup();
        state = State.CLOSED;
        if (closeReason == null) {
            closeReason = reason;
        }
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
        if (waitTimer != null) {
            waitTimer.cancel(false);
        }
        proxy.cancelRegistry().unregister(cancelKey, this);
        proxy.clientClosed(this);
        if (countedInWorkload) {
            countedInWorkload = false;
            workload.removeClient();
        }
        if (waiting) {
            proxy.pools().cancelWait(pool, this);
        }
        stopWaiting();
        if (breakerPermitNanos != 0) {
            breakerPermitNanos = 0;
            workload.breaker().releasePermission(); // the client left: neither success nor failure
        }
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        ServerConnection s = server;
        server = null;
        if (s != null) {
            if (inReadBurst) {
                // Queries and Terminate in one packet: what was forwarded before the Terminate goes to the server
                // first, as PostgreSQL would run it on a direct connection (the cleanup then closes that server).
                s.flush();
            }
            cleanUp(s);
        }
        if (wasReady && events != null) {
            events.closed(this, closeReason);
        }
        if (wasReady && proxy.settings().logDisconnections()) {
            log.info("disconnect: {} reason={} after {}s", describe(), closeReason.code(),
                    (System.nanoTime() - connectedAtNanos) / 1_000_000_000L);
        }
        Closing.afterWrites(channel);
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
        if (syncing || outstanding > 0 || unsynced || (tracker != null && !tracker.isEmpty())) {
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
        } else if (sessionDirty) {
            steps.add("DISCARD ALL");
        }
        runCleanup(s, steps, 0);
    }

    private void runCleanup(ServerConnection s, List<String> steps, int i) {
        if (i == steps.size()) {
            String reset = steps.contains("DISCARD ALL") ? "DISCARD ALL" : proxy.settings().serverResetQuery();
            if (reset != null && steps.contains(reset)) {
                String up = reset.toUpperCase(Locale.ROOT);
                if (up.contains("DISCARD ALL") || up.contains("RESET ALL")) {
                    // DISCARD ALL undid every setting and prepared statement Sluice made for earlier clients.
                    s.applied().clear();
                    s.preparedStatements().clear();
                }
            }
            proxy.pools().release(pool, s);
            return;
        }
        s.runInternal(steps.get(i), proxy.settings().queryTimeout(), (srv, err) -> {
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
