package dev.sluice.observe;

import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ClientSession;
import dev.sluice.guard.BudgetMonitor;
import dev.sluice.guard.LeakDetector;
import dev.sluice.pool.PoolManager;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

// What the observer reads from the running proxy; built by the composition root (SluiceServer).
/**
 * Read-only by contract: nothing in dev.sluice.observe changes the proxy's state through these.
 *
 * @param clients the live client sessions (a concurrent view; iterating it never blocks the proxy)
 */
public record ProxyView(SluiceConfig config, PoolManager pools, List<BudgetMonitor> budgetMonitors,
        LeakDetector leakDetector, Supplier<Collection<ClientSession>> clients) {

    public ProxyView {
        budgetMonitors = List.copyOf(budgetMonitors);
    }
}
