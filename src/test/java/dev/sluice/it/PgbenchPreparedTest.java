package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * `pgbench -M prepared` (libpq, named statements prepared with a blocking PQprepare) through transaction
 * mode with more clients than server connections: zero failed transactions. PgBouncer 1.18 fails this.
 */
class PgbenchPreparedTest {
    private static final Path PGBENCH = Path.of("/usr/bin/pgbench");

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("pgbench finished").isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /** Debian's /usr/bin/pgbench is a wrapper: it exists even when the real binary does not. */
    private static boolean works() {
        try {
            Process p = new ProcessBuilder(PGBENCH.toString(), "--version").redirectErrorStream(true).start();
            return p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void pgbenchPreparedModeWithMoreClientsThanServers() throws Exception {
        assumeTrue(Files.isExecutable(PGBENCH) && works(), "pgbench is not installed (Debian: postgresql-15)");
        try (SluiceHandle s = SluiceHandle.trust("transaction", 4, "max_client_conn = 200")) {
            String port = String.valueOf(s.port());
            run(List.of(PGBENCH.toString(), "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
                    "postgres"));
            for (String mode : List.of("prepared", "extended")) {
                String out = run(List.of(PGBENCH.toString(), "-n", "-M", mode, "-c", "12", "-j", "2", "-T", "4",
                        "-h", "127.0.0.1", "-p", port, "-U", "postgres", "postgres"));
                Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
                Matcher processed = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
                assertThat(failed.find()).as(out).isTrue();
                assertThat(failed.group(1)).as(mode + ": " + out).isEqualTo("0");
                assertThat(processed.find()).as(out).isTrue();
                assertThat(Long.parseLong(processed.group(1))).as(mode).isGreaterThan(100);
                assertThat(out).doesNotContain("error");
            }
        }
    }
}
