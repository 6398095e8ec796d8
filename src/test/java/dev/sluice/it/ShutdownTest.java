package dev.sluice.it;

import static dev.sluice.it.AdminConsoleTest.ADMINS;
import static dev.sluice.it.AdminConsoleTest.client;
import static dev.sluice.it.AdminConsoleTest.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Graceful shutdown (SIGTERM, SHUTDOWN): stop accepting, let transactions finish up to a limit, exit 0. */
class ShutdownTest {
    @TempDir
    Path dir;

    @Test
    void transactionsInFlightFinishIdleClientsAreClosedAtOnce() throws Exception {
        SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
        try (Connection inTx = client(s, "in-tx"); Connection idle = client(s, "idle")) {
            inTx.setAutoCommit(false);
            one(inTx, "SELECT 1");
            one(idle, "SELECT 1");
            long t0 = System.nanoTime();
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(
                    () -> s.server().shutdownGracefully(Duration.ofSeconds(30)));

            await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                    assertThatThrownBy(() -> one(idle, "SELECT 1"))
                            .isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(e.getMessage()).contains("shutting down")));
            assertThatThrownBy(() -> client(s, "late")).isInstanceOf(SQLException.class); // no longer listening
            assertThat(shutdown).isNotDone();
            assertThat(one(inTx, "SELECT 'finishing'")).isEqualTo("finishing");
            inTx.commit();
            shutdown.get(10, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)).isLessThan(10);
            assertThat(s.server().terminated()).isDone();
            assertThatThrownBy(() -> one(inTx, "SELECT 1")).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void aTransactionThatDoesNotFinishIsCutAtTheTimeout() throws Exception {
        SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS);
        try (Connection stuck = client(s, "stuck")) {
            stuck.setAutoCommit(false);
            one(stuck, "SELECT 1");
            long t0 = System.nanoTime();
            s.server().shutdownGracefully(Duration.ofSeconds(1));
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(took).isBetween(900L, 8000L);
            assertThatThrownBy(() -> one(stuck, "SELECT 1")).isInstanceOf(SQLException.class);
        }
    }

    @Test
    void consoleShutdownStopsTheServer() throws Exception {
        SluiceHandle s = SluiceHandle.trust("transaction", 2, ADMINS + "shutdown_wait_timeout = 5\n");
        try (Console console = Console.open(s, "admin", null)) {
            console.run("SHUTDOWN");
            s.server().terminated().get(10, TimeUnit.SECONDS);
        }
        s.close(); // idempotent
    }

    /** The real process: SIGHUP reloads (a broken file is ignored), SIGTERM exits 0. */
    @Test
    void signalsReloadAndStopTheProcess() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path ini = dir.resolve("pgbouncer.ini");
        String config = "[databases]\n* = host=127.0.0.1 port=" + Postgres.port() + "\n[pgbouncer]\n"
                + "listen_addr = 127.0.0.1\nlisten_port = " + port + "\nauth_type = trust\npool_mode = transaction\n"
                + "admin_users = admin\ndefault_pool_size = 3\n"
                + "stats_listen = 127.0.0.1:0\n"; // not the default 9930: another Sluice on the machine may have it
        Files.writeString(ini, config);
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = dir.resolve("sluice.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, "dev.sluice.cli.Main", "run", ini.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                try (Console c = Console.open(port, "admin", null)) {
                    return true;
                }
            });
            try (Console console = Console.open(port, "admin", null)) {
                assertThat(value(console, "default_pool_size")).isEqualTo("3");

                Files.writeString(ini, config.replace("default_pool_size = 3", "default_pool_size = 7"));
                signal(p, "HUP");
                await().atMost(Duration.ofSeconds(10)).until(() -> value(console, "default_pool_size").equals("7"));

                Files.writeString(ini, config + "default_pool_size = many\n");
                signal(p, "HUP");
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        Files.readString(log).contains("keeping the running configuration"));
                assertThat(p.isAlive()).isTrue();
                assertThat(value(console, "default_pool_size")).isEqualTo("7");
            }
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("SIGTERM: graceful shutdown").contains("sluice stopped");
        } finally {
            p.destroyForcibly();
        }
    }

    /** A SIGHUP that arrives as soon as the port answers reloads; it used to find the JVM's default and stop it. */
    @Test
    void aSignalRightAfterTheListenerOpensIsHandled() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path ini = dir.resolve("early-signal.ini");
        Files.writeString(ini, "[databases]\n* = host=127.0.0.1 port=" + Postgres.port() + "\n[pgbouncer]\n"
                + "listen_addr = 127.0.0.1\nlisten_port = " + port + "\nauth_type = trust\n"
                + "stats_listen = 127.0.0.1:0\n");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = dir.resolve("early-signal.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, "dev.sluice.cli.Main", "run", ini.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).ignoreExceptions().until(() -> {
                try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
                    return true;
                }
            });
            signal(p, "HUP");
            await().atMost(Duration.ofSeconds(10)).until(() -> !p.isAlive()
                    || Files.readString(log).contains("SIGHUP: reloading"));
            assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
            p.destroy(); // SIGTERM
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        } finally {
            p.destroyForcibly();
        }
    }

    private static String value(Console console, String key) throws SQLException {
        return console.query("SHOW CONFIG").row("key", key).get("value");
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }
}
