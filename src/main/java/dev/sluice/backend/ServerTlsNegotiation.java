package dev.sluice.backend;

import dev.sluice.config.TlsConfig;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.SqlState;
import dev.sluice.protocol.TlsDescription;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

// Sluice's side of the SSLRequest exchange with PostgreSQL: ask, read 'S'/'N', then TLS or plain text per server_tls_sslmode.
/**
 * Sits first in a server connection's pipeline and holds back channelActive (which makes the login handler
 * send the StartupMessage) until the connection is what server_tls_sslmode asks for: after a TLS handshake
 * on 'S', or on 'N' when the mode allows plain text (allow, prefer). Then it steps out of the pipeline.
 * Bytes after the 'S' would be taken as if they had come through TLS, so they fail the login, as libpq
 * does since CVE-2021-23222.
 */
final class ServerTlsNegotiation extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ServerTlsNegotiation.class);

    private final ServerLogin login;
    private final TlsConfig tls;
    /** Fails the login with an error relayed to waiting clients, and closes the connection. */
    private final Consumer<ErrorResponse> fail;
    private boolean answered;
    private boolean done;

    ServerTlsNegotiation(ServerLogin login, Consumer<ErrorResponse> fail) {
        this.login = login;
        this.tls = login.tls();
        this.fail = fail;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ByteBuf req = ctx.alloc().buffer(8);
        req.writeInt(8);
        req.writeInt(MessageType.SSL_REQUEST_CODE);
        ctx.writeAndFlush(req);
        // channelActive is passed on once TLS is settled.
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || answered) {
            ctx.fireChannelRead(msg);
            return;
        }
        ByteBuf in = (ByteBuf) msg;
        try {
            if (!in.isReadable()) {
                return;
            }
            answered = true;
            byte answer = in.readByte();
            boolean trailing = in.isReadable();
            if (answer == 'S' && !trailing) {
                startTls(ctx);
            } else if (answer == 'N' && !trailing) {
                if (tls.mode().requiresTls()) {
                    failWith(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, "sluice: server "
                            + login.description() + " does not accept TLS (it answered the SSLRequest with 'N'), "
                            + "and server_tls_sslmode = " + tls.mode().configWord() + " requires it",
                            "Enable ssl in postgresql.conf, or lower server_tls_sslmode to prefer.");
                } else {
                    proceed(ctx); // allow/prefer: plain text, as libpq falls back
                }
            } else if (answer == 'S' || answer == 'N') {
                failWith(SqlState.PROTOCOL_VIOLATION, "sluice: server " + login.description()
                        + " sent unencrypted data after its answer to the SSLRequest", "This could be a "
                        + "man-in-the-middle attack; the connection was not used.");
            } else if (answer == 'E') {
                failWith(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, "sluice: server " + login.description()
                        + " answered the SSLRequest with an error (a server too old for TLS negotiation?)",
                        "Set server_tls_sslmode = disable for this server.");
            } else {
                failWith(SqlState.PROTOCOL_VIOLATION, "sluice: server " + login.description()
                        + " answered the SSLRequest with byte " + (answer & 0xff) + " instead of 'S' or 'N'",
                        "Check that host/port in [databases] point at PostgreSQL.");
            }
        } finally {
            in.release();
        }
    }

    private void startTls(ChannelHandlerContext ctx) {
        InetSocketAddress address = (InetSocketAddress) login.address();
        // Host and port go to the engine: verify-full checks the certificate against this host name.
        SslHandler handler = tls.context().newHandler(ctx.alloc(), address.getHostString(), address.getPort());
        ctx.pipeline().addBefore(ctx.name(), "tls", handler);
        handler.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                log.debug("server {}: TLS {}", login.description(), TlsDescription.of(ctx.channel()));
                proceed(ctx);
            } else {
                failWith(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, "sluice: TLS handshake with server "
                        + login.description() + " failed (server_tls_sslmode = " + tls.mode().configWord() + "): "
                        + rootMessage(f.cause()), hint());
            }
        });
    }

    private String hint() {
        return switch (tls.mode()) {
            case VERIFY_FULL -> "The server's certificate must be signed by server_tls_ca_file and name the host "
                    + "of the [databases] entry.";
            case VERIFY_CA -> "The server's certificate must be signed by server_tls_ca_file.";
            default -> null;
        };
    }

    private void proceed(ChannelHandlerContext ctx) {
        done = true;
        ctx.fireChannelActive(); // the login handler sends the StartupMessage now
        ctx.pipeline().remove(this);
    }

    private void failWith(String sqlState, String message, String hint) {
        done = true;
        fail.accept(ErrorResponse.error("FATAL", sqlState, message, null, hint));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            return; // a failing handshake: its future reports it, with the mode and a hint
        }
        ctx.fireExceptionCaught(cause);
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
