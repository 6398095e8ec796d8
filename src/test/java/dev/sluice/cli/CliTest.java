package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit codes and what users read. */
class CliTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void checkConfigExplainsTheLimits() throws Exception {
        Path ini = dir.resolve("pgbouncer.ini");
        Files.writeString(ini, """
                [databases]
                appdb = host=127.0.0.1 port=5432 pool_size=30
                [pgbouncer]
                auth_type = trust
                pool_mode = transaction
                max_client_conn = 500
                """);
        Result r = run("check-config", ini.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("OK").contains("appdb").contains("30").contains("500");
    }

    @Test
    void badConfigListsEveryErrorWithFileAndLineAndExitsTwo() throws Exception {
        Path ini = dir.resolve("bad.ini");
        Files.writeString(ini, """
                [databases]
                appdb = host=127.0.0.1 port=notaport
                [pgbouncer]
                pool_mode = sometimes
                no_such_setting = 1
                """);
        for (String cmd : new String[] {"check-config", "run"}) {
            Result r = run(cmd, ini.toString());
            assertThat(r.code()).isEqualTo(2);
            assertThat(r.err()).contains(ini + ":2:").contains(ini + ":4:").contains(ini + ":5:")
                    .contains("no_such_setting");
        }
        // `sluice FILE` is `sluice run FILE`
        assertThat(run(ini.toString()).code()).isEqualTo(2);
    }

    @Test
    void missingConfigFileIsAClearError() {
        Result r = run("check-config", dir.resolve("nope.ini").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("nope.ini");
    }

    @Test
    void versionPrints() {
        Result r = run("version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("sluice ");
    }
}
