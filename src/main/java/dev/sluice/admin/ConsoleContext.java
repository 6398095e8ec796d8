package dev.sluice.admin;

import dev.sluice.config.Settings;
import dev.sluice.config.SluiceConfig;
import dev.sluice.frontend.ClientSession;
import dev.sluice.pool.PoolManager;
import dev.sluice.pool.PoolStats;
import java.util.Collection;

/** What the admin console needs from the running proxy; implemented by the composition root. */
public interface ConsoleContext {
    SluiceConfig config();

    PoolManager pools();

    /** Proxy client sessions (those logging in included); console sessions are not among them. */
    Collection<ClientSession> clients();

    Collection<AdminSession> consoleSessions();

    void consoleOpened(AdminSession session);

    void consoleClosed(AdminSession session);

    /** RELOAD: re-reads the config file; with errors, the running configuration stays and they are returned. */
    ReloadResult reload();

    /** SET: runs with {@code settings} from now on (pool limits and timeouts included). */
    void applySettings(Settings settings);

    /** SHUTDOWN: the graceful shutdown of SIGTERM, started in the background. */
    void shutdown();

    StatsAverages averages();

    /** Counters of the console's own "pgbouncer" database (its queries), as PgBouncer shows them. */
    PoolStats consoleStats();

    String version();

    /** The alert engine, for SHOW ALERTS (alerts are evaluated whether or not stats_listen serves them). */
    dev.sluice.observe.AlertEngine alerts();

    /** Leak suspects, for SHOW LEAKS. */
    dev.sluice.guard.LeakDetector leakDetector();

    /** Budget monitors of servers with max_db_connections = auto, for SHOW BUDGET and SHOW BYPASS. */
    java.util.List<dev.sluice.guard.BudgetMonitor> budgetMonitors();
}
