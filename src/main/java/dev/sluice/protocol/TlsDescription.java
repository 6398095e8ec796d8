package dev.sluice.protocol;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;

// How a connection's TLS session reads in SHOW CLIENTS / SHOW SERVERS (the "tls" column) and in logs.
public final class TlsDescription {

    private TlsDescription() {
    }

    /** "TLSv1.3/TLS_AES_256_GCM_SHA384" once the handshake is done, "" for a plain-text connection. */
    public static String of(Channel channel) {
        SslHandler h = channel == null ? null : channel.pipeline().get(SslHandler.class);
        if (h == null || !h.handshakeFuture().isSuccess()) {
            return "";
        }
        SSLSession s = h.engine().getSession();
        return s.getProtocol() + "/" + s.getCipherSuite();
    }
}
