package dev.sluice.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady load from several threads through Sluice with real pgjdbc clients, while a test injects a
 * fault. Each thread runs short transactions (some mid-query for a while, so a fault finds work in
 * flight), times every operation (a hang shows as an operation slower than the test's limit) and records
 * each error's SQLSTATE; after an error it reconnects if its connection is gone.
 */
final class FaultLoad implements AutoCloseable {
    /** One error a client saw: when (nanoTime), its SQLSTATE and message. */
    record Failure(long atNanos, String sqlState, String message) {}

    private final String url;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    final List<Failure> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    final AtomicLong successes = new AtomicLong();
    /** Per thread, when it last completed a transaction (nanoTime). */
    final Map<Integer, Long> lastSuccessNanos = new ConcurrentHashMap<>();
    /** The slowest single operation (connect, statement or commit), in nanoseconds. */
    final AtomicLong slowestOpNanos = new AtomicLong();

    FaultLoad(String url, int clients) {
        this.url = url;
        for (int i = 0; i < clients; i++) {
            int id = i;
            Thread t = new Thread(() -> run(id), "fault-load-" + id);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "0"); // unnamed statements: safe in transaction mode
        p.setProperty("connectTimeout", "30");
        p.setProperty("socketTimeout", "30"); // a hang ends eventually and is reported as slow, not lost
        p.setProperty("ApplicationName", "fault-load");
        return DriverManager.getConnection(url, p);
    }

    private void run(int id) {
        Random rnd = new Random(id);
        Connection c = null;
        while (running.get()) {
            try {
                if (c == null || c.isClosed()) {
                    c = timed(this::connect);
                }
                Connection conn = c;
                conn.setAutoCommit(false);
                try (Statement st = conn.createStatement()) {
                    timed(() -> st.execute("INSERT INTO fault_load (client) VALUES (" + id + ")"));
                    String sleep = rnd.nextInt(3) == 0 ? "0.2" : "0.01";
                    timed(() -> st.execute("SELECT pg_sleep(" + sleep + ")"));
                }
                timed(() -> {
                    conn.commit();
                    return null;
                });
                successes.incrementAndGet();
                lastSuccessNanos.put(id, System.nanoTime());
            } catch (SQLException e) {
                failures.add(new Failure(System.nanoTime(), e.getSQLState(), e.getMessage()));
                try {
                    if (c != null && !c.isClosed()) {
                        c.rollback();
                    }
                } catch (SQLException ignored) {
                    // the connection is gone; reconnect next round
                }
                sleepQuietly(20);
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing after a fault
            }
        }
    }

    private interface Op<T> {
        T run() throws SQLException;
    }

    private <T> T timed(Op<T> op) throws SQLException {
        long t0 = System.nanoTime();
        try {
            return op.run();
        } finally {
            long took = System.nanoTime() - t0;
            slowestOpNanos.accumulateAndGet(took, Math::max);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Errors whose SQLSTATE is not a connection failure (08) or operator intervention (57: shutdown, restart). */
    List<Failure> unexpectedFailures() {
        synchronized (failures) {
            return failures.stream().filter(f -> f.sqlState() == null
                    || !(f.sqlState().startsWith("08") || f.sqlState().startsWith("57"))).toList();
        }
    }

    /** True when every client thread completed a transaction after {@code sinceNanos}. */
    boolean everyClientSucceededSince(long sinceNanos) {
        if (lastSuccessNanos.size() < threads.size()) {
            return false;
        }
        return lastSuccessNanos.values().stream().allMatch(t -> t - sinceNanos > 0);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(40_000);
        }
    }
}
