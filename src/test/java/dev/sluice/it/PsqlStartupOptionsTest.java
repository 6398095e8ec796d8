package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * libpq's PGOPTIONS through Sluice, with PostgreSQL's own psql: the -c settings are the session's
 * defaults in both pool modes, so SHOW, SET then RESET, and RESET ALL answer exactly as they do directly.
 */
class PsqlStartupOptionsTest {
    private static final Path PSQL = Path.of("/usr/bin/psql");

    private static String psql(int port, String... commands) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PSQL.toString(), "-X", "-q", "-At", "-h", "127.0.0.1",
                "-p", String.valueOf(port), "-U", "postgres", "-d", "postgres"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGOPTIONS", "-c search_path=psql_path -c statement_timeout=4321 --work-mem=7MB");
        pb.environment().put("PGAPPNAME", "psql-options");
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static String script(int port) throws Exception {
        return psql(port, "SHOW search_path", "SHOW statement_timeout", "SHOW work_mem", "SHOW application_name",
                "SET search_path = elsewhere", "SHOW search_path", "RESET search_path", "SHOW search_path",
                "SET statement_timeout = 10", "SET work_mem = '1MB'", "RESET ALL", "SHOW statement_timeout",
                "SHOW work_mem", "SHOW search_path");
    }

    @ParameterizedTest
    @ValueSource(strings = {"session", "transaction"})
    void pgoptionsAreTheSessionDefaults(String mode) throws Exception {
        assumeTrue(Files.isExecutable(PSQL), "psql is not installed");
        String direct = script(Postgres.port());
        assertThat(direct.lines()).containsExactly("psql_path", "4321ms", "7MB", "psql-options", "elsewhere",
                "psql_path", "4321ms", "7MB", "psql_path");
        try (SluiceHandle s = SluiceHandle.trust(mode, 1, "")) {
            assertThat(script(s.port())).isEqualTo(direct);
        }
    }
}
