package dev.sluice.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.List;

/** The client session a server connection is leased to; server events are delivered on its event loop. */
public interface ServerLink {
    EventLoop eventLoop();

    /** Frames the server sent during one read burst, in order; the receiver owns (and must release) them. */
    void onServerFrames(ServerConnection server, List<ByteBuf> frames);

    /** The server's connection closed (PostgreSQL shut down, crashed, or terminated the backend). */
    void onServerClosed(ServerConnection server);

    /** The server's outbound buffer crossed a watermark; the client's reading is paused or resumed accordingly. */
    void onServerWritabilityChanged(ServerConnection server);
}
