package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** unix_socket_dir: libpq clients (psql) connect through DIR/.s.PGSQL.PORT, as with PgBouncer. */
class UnixSocketTest {
    @Test
    void psqlConnectsThroughTheUnixSocket() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/psql")), "psql is not installed");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("sluice-sock");
        try (SluiceHandle s = SluiceHandle.start("* = host=127.0.0.1 port=${PGPORT}",
                "auth_type = trust\npool_mode = transaction\nunix_socket_dir = " + dir
                        + "\nlisten_port = " + port, null)) {
            assertThat(dir.resolve(".s.PGSQL." + port)).exists();
            Process p = new ProcessBuilder("/usr/bin/psql", "-h", dir.toString(), "-p", String.valueOf(port),
                    "-U", "postgres", "-d", "postgres", "-Atc", "select 40 + 2")
                    .redirectErrorStream(true).start();
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            assertThat(out).isEqualTo("42");
            assertThat(p.exitValue()).isZero();
        }
    }
}
