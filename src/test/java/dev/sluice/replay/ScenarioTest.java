package dev.sluice.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario files, the timeline arithmetic, the config rewrite and the JSON round trip (no database needed). */
class ScenarioTest {
    @TempDir
    Path tmp;

    @Test
    void theDefaultIsTheIncidentAndTheShippedScenarioSaysTheSame() throws Exception {
        Scenario d = Scenario.incident();
        assertThat(d.duration()).isEqualTo(Duration.ofSeconds(90));
        assertThat(d.deployAt()).isEqualTo(Duration.ofMillis(9900));
        assertThat(d.fixAt()).isEqualTo(Duration.ofMillis(80100));
        assertThat(d.leak()).isEqualTo("idle");
        assertThat(d.modes()).containsExactly("direct", "sluice", "pgbouncer");
        Scenario shipped = Scenario.load(Path.of("examples/replay/incident.scenario"));
        assertThat(shipped.toJson()).isEqualTo(d.toJson());
        assertThat(Scenario.load(Path.of("examples/replay/transaction-leak.scenario")).leak()).isEqualTo("transaction");
        assertThat(Scenario.load(Path.of("examples/replay/hikari-api.scenario")).apiPool()).isEqualTo("hikari");
    }

    @Test
    void aShorterDurationKeepsDeployAndFixInTheirPlace() {
        Scenario s = Scenario.incident().withDuration(Duration.ofSeconds(20));
        assertThat(s.deployAt()).isEqualTo(Duration.ofMillis(2200));
        assertThat(s.fixAt()).isEqualTo(Duration.ofMillis(17800));
    }

    @Test
    void scenarioFilesAcceptDurationsPercentagesAndNever() throws Exception {
        Path f = tmp.resolve("mine.scenario");
        Files.writeString(f, "# my incident\nduration = 30s\ndeploy_at = 5s\nfix_at = never\njob_rate = 4 # slow leak\n"
                + "leak = transaction\nmodes = direct, sluice\nsluice_config = my.ini\n");
        Scenario s = Scenario.load(f);
        assertThat(s.name()).isEqualTo("mine");
        assertThat(s.deployAt()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.fixAt()).isNull();
        assertThat(s.jobRate()).isEqualTo(4.0);
        assertThat(s.modes()).containsExactly("direct", "sluice");
        assertThat(s.sluiceConfig()).isEqualTo(tmp.resolve("my.ini"));
    }

    @Test
    void mistakesInScenarioFilesAreNamed() throws Exception {
        Path f = tmp.resolve("bad.scenario");
        Files.writeString(f, "duration = 30s\njob_rat = 4\n");
        assertThatThrownBy(() -> Scenario.load(f)).hasMessageContaining("bad.scenario:2: unknown key \"job_rat\"");
        Files.writeString(f, "leak = sometimes\n");
        assertThatThrownBy(() -> Scenario.load(f)).hasMessageContaining("leak must be idle or transaction");
        Files.writeString(f, "duration = 10s\ndeploy_at = 20s\n");
        assertThatThrownBy(() -> Scenario.load(f)).hasMessageContaining("must come before the end");
        Files.writeString(f, "modes = direct,haproxy\n");
        assertThatThrownBy(() -> Scenario.load(f)).hasMessageContaining("unknown mode haproxy");
    }

    @Test
    void theConfigIsPointedAtTheReplaysDatabaseAndAFreePort() {
        String ini = "[databases]\nappdb = host=db.example port=5432 dbname=appdb\nother = host=x\n\n[pgbouncer]\n"
                + "listen_addr = *\nlisten_port = 6432\nauth_file = users.txt\npool_mode = transaction\n[workloads]\n"
                + "api = match=application_name:api*\n";
        String out = IniRewrite.forReplay(ini, Path.of("/etc/sluice"), 5555);
        assertThat(out).contains("appdb = host=127.0.0.1 port=5555 dbname=appdb\n")
                .contains("; appdb = host=db.example").contains("; other = host=x")
                .contains("listen_addr = 127.0.0.1\nlisten_port = 0\n").contains("; listen_addr = *")
                .contains("auth_file = /etc/sluice/users.txt").contains("pool_mode = transaction")
                .contains("api = match=application_name:api*");
    }

    @Test
    void jsonRoundTrips() {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("a", 1);
        m.put("b", List.of(1.5, "x\"y\n", true));
        m.put("c", null);
        m.put("d", Map.of("e", Double.NaN));
        Object back = Json.parse(Json.write(m));
        @SuppressWarnings("unchecked")
        Map<String, Object> b = (Map<String, Object>) back;
        assertThat(b.get("a")).isEqualTo(1L);
        assertThat(b.get("b")).isEqualTo(List.of(1.5, "x\"y\n", true));
        assertThat(b).containsKey("c");
        assertThat(b.get("c")).isNull();
        assertThat(((Map<?, ?>) b.get("d")).get("e")).isNull();
    }
}
