package dev.sluice.frontend;

import dev.sluice.config.Settings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.pool.PoolManager;
import io.netty.channel.Channel;
import java.util.Map;

/** What a client session needs from the running proxy; implemented by the composition root. */
public interface ProxyContext {
    SluiceConfig config();

    default Settings settings() {
        return config().settings();
    }

    PoolManager pools();

    CancelRegistry cancelRegistry();

    PreparedStatementRegistry preparedStatements();

    /** max_startup_connections and the per-address failed-login limit, shared by all clients. */
    LoginGuard loginGuard();

    /** A client was refused at its workload's max_clients (a hint for leak attribution). */
    default void leakRefused(dev.sluice.guard.LeakDetector.Source source) {
    }

    void clientOpened(ClientSession session);

    void clientClosed(ClientSession session);

    int clientCount();

    /** `sluice audit`'s connection listener, or null (the default): read once per client, at its creation. */
    default dev.sluice.audit.ConnectionEvents connectionEvents() {
        return null;
    }

    /**
     * A client authenticated to the admin console database ("pgbouncer" or "sluice"): the console takes
     * its channel over (the session has already left the client set) and decides whether the user may in.
     */
    void openConsole(Channel channel, long clientId, String user, Map<String, String> startupParameters);

    /** A new client's latency histograms (dev.sluice.observe); asked once per client, at its creation. */
    default dev.sluice.observe.ClientMetrics clientMetrics() {
        return dev.sluice.observe.ClientMetrics.OFF;
    }
}
