package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkloadParserTest {
    @TempDir
    Path dir;

    private Path write(String workloads) throws Exception {
        Path ini = dir.resolve("sluice.ini");
        Files.writeString(ini, "[databases]\nappdb = host=127.0.0.1\n[sluice]\nauth_type = trust\n[workloads]\n" + workloads);
        return ini;
    }

    @Test
    void parsesTheDesignExampleAndClassifiesFirstMatchWithDefaultLast() throws Exception {
        SluiceConfig cfg = ConfigLoader.load(write("""
                default   = max=20
                api       = match=application_name:api* reserve=60 max=90 priority=10 queue_timeout=2s
                analytics = match=application_name:analytics* max=10 max_clients=200 queue_timeout=30s idle_transaction_timeout=60s
                office    = match=address:10.1.0.0/16 match=user:report*
                """));
        List<WorkloadConfig> w = cfg.workloads();
        assertThat(w).extracting(WorkloadConfig::name).containsExactly("api", "analytics", "office", "default");
        WorkloadConfig api = w.get(0);
        assertThat(api.reserve()).isEqualTo(60);
        assertThat(api.max()).isEqualTo(90);
        assertThat(api.priority()).isEqualTo(10);
        assertThat(api.queueTimeout()).hasSeconds(2);
        assertThat(api.matches("u", "appdb", "api-7", null)).isTrue();
        assertThat(api.matches("u", "appdb", "web", null)).isFalse();
        WorkloadConfig office = w.get(2);
        assertThat(office.matches("reporter", "appdb", "", InetAddress.getByName("10.1.200.3"))).isTrue();
        assertThat(office.matches("reporter", "appdb", "", InetAddress.getByName("10.2.0.1"))).isFalse();
        assertThat(office.matches("app", "appdb", "", InetAddress.getByName("10.1.0.1"))).isFalse();
    }

    @Test
    void badWorkloadsAreReportedWithFileAndLineAllAtOnce() throws Exception {
        Path ini = write("""
                api = reserve=5
                job = match=application_name:job* max=two
                web = match=color:blue
                big = match=user:x reserve=10 max=5
                default = match=user:x
                """);
        assertThatThrownBy(() -> ConfigLoader.load(ini)).isInstanceOf(ConfigException.class)
                .satisfies(e -> {
                    List<ConfigProblem> p = ((ConfigException) e).problems();
                    assertThat(p).extracting(ConfigProblem::line).containsExactly(6, 7, 8, 9, 10);
                    assertThat(p.get(0).message()).contains("has no match=");
                    assertThat(p.get(1).message()).contains("max").contains("not a whole number");
                    assertThat(p.get(2).message()).contains("unknown match kind \"color\"");
                    assertThat(p.get(3).message()).contains("reserve=10 is above max=5");
                    assertThat(p.get(4).message()).contains("takes no match=");
                });
    }
}
