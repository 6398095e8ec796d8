package dev.sluice.frontend;

import dev.sluice.config.Settings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.pool.PoolManager;

/** What a client session needs from the running proxy; implemented by the composition root. */
public interface ProxyContext {
    SluiceConfig config();

    default Settings settings() {
        return config().settings();
    }

    PoolManager pools();

    CancelRegistry cancelRegistry();

    PreparedStatementRegistry preparedStatements();

    void clientOpened(ClientSession session);

    void clientClosed(ClientSession session);

    int clientCount();

    /** A new client's traffic counters (dev.sluice.observe); asked once per client, at its creation. */
    default dev.sluice.observe.ClientMetrics clientMetrics() {
        return dev.sluice.observe.ClientMetrics.OFF;
    }
}
