package dev.sluice.pool;

import dev.sluice.backend.ServerConnection;
import dev.sluice.guard.Workload;
import dev.sluice.protocol.ErrorResponse;
import io.netty.channel.EventLoop;

/** Something queued for a server connection (a client session). Callbacks run on {@link #eventLoop()}. */
public interface ServerWaiter {
    EventLoop eventLoop();

    /** The workload the waiting client belongs to: admission is decided per workload. */
    Workload workload();

    /**
     * Session mode: the client's own startup parameters (canonical names), which the server it gets must
     * have been opened with so that they are its session defaults; null: any server of the pool will do.
     */
    default java.util.Map<String, String> startupParameters() {
        return null;
    }

    /** A server was leased to this waiter; it now owns it and must hand it back through {@link Pool#release}. */
    void serverLeased(ServerConnection server);

    /** No server could be had (connect/login failure or timeout); the error says why. */
    void serverUnavailable(ErrorResponse error);
}
