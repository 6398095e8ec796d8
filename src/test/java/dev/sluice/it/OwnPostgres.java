package dev.sluice.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A PostgreSQL owned by one test class, for fault injection: it keeps its data directory and port across
 * restarts, so Sluice's [databases] entry stays valid, and it can be stopped, SIGKILLed and SIGSTOPped
 * without disturbing the shared {@link Postgres} every other test uses.
 */
final class OwnPostgres implements AutoCloseable {
    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;

    private OwnPostgres(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    static OwnPostgres start() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        OwnPostgres own = new OwnPostgres(Files.createTempDirectory("sluice-own-pg"), port);
        own.startServer();
        return own;
    }

    int port() {
        return port;
    }

    /** "host=... port=..." for a [databases] entry. */
    String connString() {
        return "host=127.0.0.1 port=" + port;
    }

    Connection direct() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
    }

    /** The postmaster's process id, from postmaster.pid (its first line). */
    long postmasterPid() throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    }

    /** A clean restart: pg_ctl stop -m fast (backends get 57P01), then start on the same port and data. */
    void restart() throws IOException {
        pg.close();
        startServer();
    }

    /**
     * A crash: SIGKILL to the postmaster. Its backends exit once they notice (PostgreSQL checks for
     * postmaster death), then the server is started again; crash recovery runs on the same data.
     */
    void killAndRestart() throws Exception {
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid()).orElseThrow();
        List<ProcessHandle> children = postmaster.children().toList();
        postmaster.destroyForcibly();
        postmaster.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        for (ProcessHandle c : children) {
            // A surviving backend keeps the old shared memory attached and the new postmaster would refuse to start.
            c.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        try {
            pg.close(); // pg_ctl stop fails (no postmaster); this releases zonky's lock file
        } catch (IOException ignored) {
            // nothing to stop
        }
        startServer();
    }

    /** SIGSTOP / SIGCONT a process (a backend, or the postmaster): it stops answering without closing anything. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed");
        }
    }

    private void startServer() throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                pg = EmbeddedPostgres.builder()
                        .setDataDirectory(dataDir)
                        .setCleanDataDirectory(false)
                        .setRegisterShutdownHook(false)
                        .setPort(port)
                        .setServerConfig("max_connections", "40")
                        .start();
                return;
            } catch (IOException | IllegalStateException e) {
                // The port or the old shared memory may take a moment to be released after a kill.
                last = e instanceof IOException io ? io : new IOException(e);
                try {
                    Thread.sleep(250);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException(ie);
                }
            }
        }
        throw last;
    }

    @Override
    public void close() throws IOException {
        try {
            pg.close();
        } finally {
            try (Stream<Path> files = Files.walk(dataDir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
