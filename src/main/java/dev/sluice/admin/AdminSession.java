package dev.sluice.admin;

import dev.sluice.pool.DisconnectReason;
import dev.sluice.protocol.BackendMessages.Authentication;
import dev.sluice.protocol.BackendMessages.BackendKeyData;
import dev.sluice.protocol.BackendMessages.CommandComplete;
import dev.sluice.protocol.BackendMessages.ParameterStatus;
import dev.sluice.protocol.BackendMessages.ReadyForQuery;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.FrontendMessages;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.PgMessage;
import dev.sluice.protocol.SqlState;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin console connection, after its user authenticated to the "pgbouncer" (or "sluice") database:
 * replaces the proxy's ClientSession in the pipeline, checks admin_users/stats_users, then answers simple
 * Query messages with the console's commands. Every field is touched only on this channel's event loop,
 * except the few read by SHOW CLIENTS.
 */
public final class AdminSession extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(AdminSession.class);

    /**
     * The server_version the console reports. A PostgreSQL-like number keeps drivers in their modern
     * mode: pgjdbc, seeing PgBouncer's "1.x/bouncer", would treat the console as PostgreSQL 1.x.
     */
    static final String SERVER_VERSION = "16.0 (Sluice admin console)";

    /** How often a held answer (PAUSE, WAIT_CLOSE) checks whether it may go out. */
    private static final long POLL_MILLIS = 50;

    private final ConsoleContext ctx;
    private final long id;
    private final String user;
    private final long connectedAtMillis = System.currentTimeMillis();
    private volatile long lastRequestNanos = System.nanoTime();
    private volatile String applicationName;
    private Channel channel;
    private AdminRole role;
    private boolean opened;
    private boolean closed;
    /** An extended-protocol message was refused: skip everything up to its Sync, as PostgreSQL does. */
    private boolean discardUntilSync;

    /**
     * @param id the id the connection had as a proxy client (SHOW CLIENTS, KILL_CLIENT)
     */
    public AdminSession(ConsoleContext ctx, long id, String user, Map<String, String> startupParameters) {
        this.ctx = ctx;
        this.id = id;
        this.user = user;
        this.applicationName = startupParameters.getOrDefault("application_name", "");
    }

    // ---- read by SHOW CLIENTS and KILL_CLIENT (from any thread) ----

    public long id() {
        return id;
    }

    public String user() {
        return user;
    }

    /** SHOW CLIENTS' tls column for this console connection; "" in plain text. */
    public String tlsDescription() {
        return dev.sluice.protocol.TlsDescription.of(channel);
    }

    public String applicationName() {
        return applicationName;
    }

    void applicationName(String name) {
        applicationName = name;
    }

    public SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    public SocketAddress localAddress() {
        return channel.localAddress();
    }

    public long connectedAtMillis() {
        return connectedAtMillis;
    }

    public long lastRequestNanos() {
        return lastRequestNanos;
    }

    /** KILL_CLIENT, shutdown: tells the client why (57P01) and closes. */
    public void kill(String message) {
        channel.eventLoop().execute(() -> fatal(ErrorResponse.fatal(SqlState.ADMIN_SHUTDOWN, message),
                DisconnectReason.ADMIN_KILL));
    }

    // ---- login ----

    @Override
    public void handlerAdded(ChannelHandlerContext c) {
        channel = c.channel();
        role = AdminRole.of(ctx.config().settings(), user);
        if (role == null) {
            log.info("console: user {} refused from {}: reason={} (not in admin_users or stats_users)", user,
                    channel.remoteAddress(), DisconnectReason.ADMIN_ACCESS_DENIED.code());
            closed = true;
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), ErrorResponse.fatal(
                    SqlState.INVALID_AUTHORIZATION_SPECIFICATION, "sluice: user \"" + user
                            + "\" may not use the admin console",
                    "Add the user to admin_users (all commands) or stats_users (SHOW only) and RELOAD.")));
            dev.sluice.protocol.Closing.afterWrites(channel);
            return;
        }
        opened = true;
        ctx.consoleOpened(this);
        ByteBuf out = channel.alloc().buffer();
        Authentication.ok().encode(out);
        Map<String, String> params = new java.util.LinkedHashMap<>();
        params.put("server_version", SERVER_VERSION);
        params.put("server_encoding", "UTF8");
        params.put("client_encoding", "UTF8");
        params.put("DateStyle", "ISO");
        params.put("TimeZone", "UTC");
        params.put("standard_conforming_strings", "on");
        params.put("integer_datetimes", "on");
        params.put("is_superuser", role == AdminRole.ADMIN ? "on" : "off");
        params.put("application_name", applicationName);
        for (Map.Entry<String, String> p : params.entrySet()) {
            new ParameterStatus(p.getKey(), p.getValue()).encode(out);
        }
        // Cancelling a console command is not supported; the key only completes the handshake.
        new BackendKeyData(ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE),
                ThreadLocalRandom.current().nextInt()).encode(out);
        ReadyForQuery.IDLE_RFQ.encode(out);
        channel.writeAndFlush(out);
        channel.config().setAutoRead(true);
        log.info("console login: {}@{} role={} (C-{})", user, channel.remoteAddress(),
                role.name().toLowerCase(java.util.Locale.ROOT), id);
    }

    // ---- messages ----

    @Override
    public void channelRead(ChannelHandlerContext c, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        try {
            if (closed) {
                return;
            }
            byte type = frame.getByte(frame.readerIndex());
            lastRequestNanos = System.nanoTime();
            switch (type) {
                case MessageType.QUERY -> {
                    if (!discardUntilSync) {
                        onQuery(FrontendMessages.Query.sqlOf(frame));
                    }
                }
                case MessageType.TERMINATE -> close(DisconnectReason.CLIENT_TERMINATE);
                case MessageType.SYNC -> {
                    // Sync ends an extended-protocol batch: the error was sent, now ReadyForQuery.
                    discardUntilSync = false;
                    channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), ReadyForQuery.IDLE_RFQ));
                }
                case MessageType.PARSE, MessageType.BIND, MessageType.DESCRIBE, MessageType.EXECUTE,
                     MessageType.CLOSE, MessageType.FLUSH -> {
                    if (!discardUntilSync) {
                        discardUntilSync = true;
                        channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), extendedProtocolError()));
                    }
                }
                case MessageType.FUNCTION_CALL -> channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(),
                        extendedProtocolError(), ReadyForQuery.IDLE_RFQ));
                default -> fatal(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION,
                        "sluice: unexpected message '" + (char) type + "' on the admin console"),
                        DisconnectReason.PROTOCOL_ERROR);
            }
        } finally {
            frame.release();
        }
    }

    private static ErrorResponse extendedProtocolError() {
        return ErrorResponse.error("ERROR", SqlState.FEATURE_NOT_SUPPORTED,
                "sluice: the admin console supports only the simple query protocol", null,
                "Use psql, or pgjdbc with preferQueryMode=simple.");
    }

    private void onQuery(String sql) {
        long start = System.nanoTime();
        AdminCommand cmd;
        try {
            cmd = AdminCommand.parse(sql);
            if (cmd == null) {
                ByteBuf out = channel.alloc().buffer();
                out.writeByte(MessageType.EMPTY_QUERY_RESPONSE);
                out.writeInt(4);
                ReadyForQuery.IDLE_RFQ.encode(out);
                channel.writeAndFlush(out);
                return;
            }
            if (!cmd.readOnly() && role != AdminRole.ADMIN && !ControlCommands.isSessionSetting(cmd)) {
                throw new AdminException(SqlState.INSUFFICIENT_PRIVILEGE, "admin access needed");
            }
            if (cmd instanceof AdminCommand.Show show) {
                ByteBuf out = channel.alloc().buffer();
                if (show.what().equals("HELP")) {
                    notice("Console usage", ShowCommands.HELP).encode(out);
                    new CommandComplete("SHOW").encode(out);
                } else {
                    ShowCommands.show(show.what(), ctx).encode(out, "SHOW");
                }
                ReadyForQuery.IDLE_RFQ.encode(out);
                channel.writeAndFlush(out);
            } else {
                answer(ControlCommands.run(cmd, ctx, this));
            }
        } catch (AdminException e) {
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(),
                    ErrorResponse.error(e.sqlState(), e.getMessage()), ReadyForQuery.IDLE_RFQ));
        } catch (RuntimeException e) {
            log.error("console: '{}' failed", sql, e);
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), ErrorResponse.error(SqlState.INTERNAL_ERROR,
                    "sluice: internal error: " + e), ReadyForQuery.IDLE_RFQ));
        } finally {
            ctx.consoleStats().transaction(1, System.nanoTime() - start, System.nanoTime() - start, 0, 0);
        }
    }

    /** Sends the outcome of a control command, holding it (and further input) while it must wait. */
    private void answer(ControlCommands.Outcome outcome) {
        if (closed) {
            return;
        }
        if (outcome.waitUntil() != null && !outcome.waitUntil().getAsBoolean()) {
            channel.config().setAutoRead(false);
            channel.eventLoop().schedule(() -> answer(outcome), POLL_MILLIS, TimeUnit.MILLISECONDS);
            return;
        }
        ByteBuf out = channel.alloc().buffer();
        for (String n : outcome.notices()) {
            notice(n, null).encode(out);
        }
        new CommandComplete(outcome.tag()).encode(out);
        ReadyForQuery.IDLE_RFQ.encode(out);
        channel.writeAndFlush(out);
        channel.config().setAutoRead(true);
        if (outcome.afterReply() != null) {
            outcome.afterReply().run();
        }
    }

    private static ErrorResponse notice(String message, String detail) {
        Map<Character, String> f = new java.util.LinkedHashMap<>(ErrorResponse.notice(message).fields());
        if (detail != null) {
            f.put(ErrorResponse.DETAIL, detail);
        }
        return new ErrorResponse(MessageType.NOTICE_RESPONSE, f);
    }

    // ---- closing ----

    @Override
    public void channelInactive(ChannelHandlerContext c) {
        close(DisconnectReason.CLIENT_CLOSED);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
        Throwable t = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                ? cause.getCause() : cause;
        if (t instanceof dev.sluice.protocol.ProtocolException pe) {
            fatal(ErrorResponse.fatal(pe.sqlState(), pe.getMessage()), DisconnectReason.PROTOCOL_ERROR);
        } else if (t instanceof IOException) {
            close(DisconnectReason.CLIENT_CLOSED);
        } else {
            log.error("console C-{}: unexpected error", id, t);
            close(DisconnectReason.PROTOCOL_ERROR);
        }
    }

    private void fatal(ErrorResponse error, DisconnectReason reason) {
        if (closed) {
            return;
        }
        if (channel.isActive()) {
            channel.writeAndFlush(PgMessage.encodeAll(channel.alloc(), error));
        }
        close(reason);
    }

    private void close(DisconnectReason reason) {
        if (closed) {
            return;
        }
        closed = true;
        if (opened) {
            ctx.consoleClosed(this);
            log.info("console disconnect: {}@{} reason={}", user, channel.remoteAddress(), reason.code());
        }
        dev.sluice.protocol.Closing.afterWrites(channel);
    }

    @Override
    public String toString() {
        return "console C-" + id + " (" + user + ")";
    }
}
