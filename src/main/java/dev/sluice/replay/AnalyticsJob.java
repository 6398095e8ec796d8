package dev.sluice.replay;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The postmortem's background job: each task opens a new connection, runs its analytics query, and
 * never closes the connection (leak = idle), or leaves its transaction open too (leak = transaction).
 * At the fix, the job is restarted with the postmortem's fix (close in finally): the process holding
 * the leaked connections goes away, so they are closed.
 */
final class AnalyticsJob implements AutoCloseable {
    static final String APPLICATION_NAME = "analytics-job";

    private final String url;
    private final boolean leakTransactions;
    private final Properties props = new Properties();
    private final List<Connection> leaked = new ArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "replay-job-tick"));
    private final ExecutorService tasks = Executors.newFixedThreadPool(16, r -> daemon(r, "replay-job"));
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong succeeded = new AtomicLong();
    private volatile boolean fixed;
    private volatile String lastError;

    AnalyticsJob(String url, boolean leakTransactions) {
        this.url = url;
        this.leakTransactions = leakTransactions;
        props.setProperty("user", ReplayDatabase.ROLE);
        props.setProperty("ApplicationName", APPLICATION_NAME);
        props.setProperty("connectTimeout", "5");
        props.setProperty("loginTimeout", "5");
        props.setProperty("socketTimeout", "10");
        props.setProperty("prepareThreshold", "0");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Deploys the job {@code delayMillis} from now: {@code rate} tasks a second from then on. */
    void deploy(long delayMillis, double rate) {
        long periodMicros = Math.max(1, Math.round(1_000_000 / rate));
        ticker.scheduleAtFixedRate(() -> tasks.execute(this::task), delayMillis * 1000, periodMicros, TimeUnit.MICROSECONDS);
    }

    /** The hotfix: restart the job with connections closed in finally; the leaked ones go with the old process. */
    void fixAfter(long delayMillis) {
        ticker.schedule(() -> {
            fixed = true;
            List<Connection> old;
            synchronized (leaked) {
                old = new ArrayList<>(leaked);
                leaked.clear();
            }
            for (Connection c : old) {
                closeQuietly(c);
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void task() {
        started.incrementAndGet();
        Connection conn = null;
        try {
            conn = DriverManager.getConnection(url, props);
            boolean leak = !fixed;
            if (leak && leakTransactions) {
                conn.setAutoCommit(false); // BEGIN ... and never COMMIT
            }
            try (Statement st = conn.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(amount), 0) FROM transfers")) {
                rs.next();
            }
            succeeded.incrementAndGet();
            if (leak) {
                synchronized (leaked) {
                    leaked.add(conn); // the bug: never closed
                }
                conn = null;
            }
        } catch (SQLException e) {
            failed.incrementAndGet();
            lastError = e.getSQLState() + " " + e.getMessage();
            if (conn != null && !fixed) {
                // the buggy job does not close on failure either
                synchronized (leaked) {
                    leaked.add(conn);
                }
                conn = null;
            }
        } finally {
            if (conn != null) {
                closeQuietly(conn); // the fixed job: close in finally
            }
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // already broken
        }
    }

    long tasksStarted() {
        return started.get();
    }

    long failures() {
        return failed.get();
    }

    long successes() {
        return succeeded.get();
    }

    /** Connections the job holds and will never close. */
    int leakedOpen() {
        synchronized (leaked) {
            return leaked.size();
        }
    }

    String lastError() {
        return lastError;
    }

    boolean isFixed() {
        return fixed;
    }

    /** Stops the job and closes what it leaked (the replay of this mode is over). */
    @Override
    public void close() {
        ticker.shutdownNow();
        tasks.shutdownNow();
        try {
            tasks.awaitTermination(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Connection> old;
        synchronized (leaked) {
            old = new ArrayList<>(leaked);
            leaked.clear();
        }
        for (Connection c : old) {
            closeQuietly(c);
        }
    }
}
