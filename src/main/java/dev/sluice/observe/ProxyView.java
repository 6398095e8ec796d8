package dev.sluice.observe;

import dev.sluice.frontend.ClientSession;
import dev.sluice.guard.BudgetMonitor;
import dev.sluice.guard.LeakDetector;
import dev.sluice.pool.PoolManager;
import java.util.Collection;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

// What the observer reads from the running proxy; built by the composition root (SluiceServer).
/**
 * Read-only by contract: nothing in dev.sluice.observe changes the proxy's state through these. The
 * configuration is read through {@code pools.config()}, so RELOAD is seen.
 *
 * @param clients      the live client sessions (a concurrent view; iterating it never blocks the proxy)
 * @param shuttingDown true once a graceful shutdown began: /readyz then says not ready
 */
public record ProxyView(PoolManager pools, List<BudgetMonitor> budgetMonitors, LeakDetector leakDetector,
        Supplier<Collection<ClientSession>> clients, BooleanSupplier shuttingDown) {

    public ProxyView {
        budgetMonitors = List.copyOf(budgetMonitors);
    }
}
