package dev.sluice.protocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.util.concurrent.TimeUnit;

/**
 * Closing a connection after what was written to it has left: the ErrorResponse that says why a client is
 * dropped must reach it. On epoll a flush usually completes at once, but not on a transport with
 * asynchronous writes (io_uring), nor towards a peer whose receive buffer is full; a close then would
 * discard the message. A peer that does not read within {@link #LINGER_MILLIS} is closed anyway, so it
 * cannot hold its connection open by not reading.
 */
public final class Closing {
    static final long LINGER_MILLIS = 2_000;

    private Closing() {
    }

    /** Closes {@code ch} once the writes before this call have completed (or failed), or after the linger time. */
    public static void afterWrites(Channel ch) {
        if (!ch.isActive()) {
            ch.close();
            return;
        }
        // An empty write completes after every write queued before it: the outbound buffer is ordered.
        ChannelFuture written = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        if (written.isDone()) {
            ch.close();
            return;
        }
        var linger = ch.eventLoop().schedule(() -> ch.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        written.addListener(f -> {
            linger.cancel(false);
            ch.close();
        });
    }
}
