package dev.sluice.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.it.Postgres;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The readiness probe: real PostgreSQL answers, a closed port and a non-PostgreSQL listener do not. */
class PostgresProbeTest {
    @TempDir
    Path dir;

    private SluiceConfig config(String databases) throws Exception {
        Path ini = dir.resolve("sluice.ini");
        Files.writeString(ini, "[databases]\n" + databases + "\n[sluice]\nauth_type = trust\n");
        return ConfigLoader.load(ini);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void realPostgresIsReachableAndAClosedPortIsNot() throws Exception {
        int closed = closedPort();
        SluiceConfig cfg = config("appdb = host=127.0.0.1 port=" + Postgres.port() + "\nother = host=127.0.0.1 port="
                + Postgres.port() + "\ngone = host=127.0.0.1 port=" + closed);
        PostgresProbe probe = new PostgresProbe(() -> cfg, Duration.ofSeconds(5), Duration.ofSeconds(2));
        assertThat(probe.complete()).isFalse();
        List<PostgresProbe.Result> r = probe.probeAll();
        assertThat(probe.complete()).isTrue();
        assertThat(r).hasSize(2);
        assertThat(r.get(0).server()).isEqualTo("127.0.0.1:" + Postgres.port());
        assertThat(r.get(0).databases()).containsExactly("appdb", "other");
        assertThat(r.get(0).reachable()).isTrue();
        assertThat(r.get(1).reachable()).isFalse();
        assertThat(r.get(1).error()).containsIgnoringCase("refused");
    }

    @Test
    void aListenerThatIsNotPostgresIsNotReachableAndSslIsAskedOnlyOnce() throws Exception {
        AtomicInteger sslRequests = new AtomicInteger();
        try (ServerSocket notPg = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
             ServerSocket sslPg = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            Thread a = serve(notPg, 'X', null);
            Thread b = serve(sslPg, 'S', sslRequests);
            SluiceConfig cfg = config("x = host=127.0.0.1 port=" + notPg.getLocalPort() + "\ny = host=127.0.0.1 port="
                    + sslPg.getLocalPort());
            PostgresProbe probe = new PostgresProbe(() -> cfg, Duration.ofSeconds(5), Duration.ofSeconds(2));
            List<PostgresProbe.Result> r = probe.probeAll();
            assertThat(r.get(0).reachable()).isFalse();
            assertThat(r.get(0).error()).contains("not PostgreSQL?");
            assertThat(r.get(1).reachable()).isTrue();
            r = probe.probeAll();
            assertThat(r.get(1).reachable()).isTrue();
            Thread.sleep(200);
            assertThat(sslRequests.get()).isEqualTo(1); // later probes only connect: no SSL error in PostgreSQL's log
            a.interrupt();
            b.interrupt();
        }
    }

    /** Accepts connections; answers the first byte after an 8-byte request with {@code answer}. */
    private static Thread serve(ServerSocket server, char answer, AtomicInteger requests) {
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.setSoTimeout(500);
                    InputStream in = s.getInputStream();
                    if (in.readNBytes(8).length == 8) {
                        if (requests != null) {
                            requests.incrementAndGet();
                        }
                        s.getOutputStream().write(answer);
                        s.getOutputStream().flush();
                    }
                } catch (Exception e) {
                    // closed, or the probe only connected
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }
}
