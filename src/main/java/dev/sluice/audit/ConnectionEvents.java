package dev.sluice.audit;

import dev.sluice.frontend.ClientSession;
import dev.sluice.pool.DisconnectReason;

/**
 * The life of each client connection as the proxy sees it, for `sluice audit`: login, every client
 * message, every ReadyForQuery from the server, and the close with its reason. Calls come from the
 * client's event loop (one client's calls never overlap, different clients' calls may), so an
 * implementation must be thread-safe and must not block. The proxy calls nothing when no listener is set.
 */
public interface ConnectionEvents {
    /** The client finished logging in (the proxy sent it ReadyForQuery). */
    void opened(ClientSession client);

    /** A message from the logged-in client; {@code type} is its type byte (see MessageType). */
    void clientMessage(ClientSession client, byte type);

    /** The server ended a request with ReadyForQuery; {@code txnStatus} is 'I', 'T' or 'E'. */
    void readyForQuery(ClientSession client, byte txnStatus);

    /**
     * A logged-in client is gone. {@code reason} is CLIENT_TERMINATE when the client sent Terminate,
     * CLIENT_CLOSED when its socket closed without one, otherwise why Sluice closed it.
     */
    void closed(ClientSession client, DisconnectReason reason);
}
