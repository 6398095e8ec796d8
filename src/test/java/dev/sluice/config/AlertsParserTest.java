package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** [alerts] and stats_listen: defaults, values, and every bad line reported with its file and line. */
class AlertsParserTest {
    @TempDir
    Path dir;

    private Path write(String sluice, String alerts) throws Exception {
        Path ini = dir.resolve("sluice.ini");
        Files.writeString(ini, "[databases]\nappdb = host=127.0.0.1\n[sluice]\nauth_type = trust\n" + sluice
                + "[alerts]\n" + alerts);
        return ini;
    }

    @Test
    void defaultsWhenTheSectionIsEmpty() throws Exception {
        SluiceConfig cfg = ConfigLoader.load(write("", ""));
        AlertsConfig a = cfg.alerts();
        assertThat(a.budgetWarn()).isEqualTo(0.80);
        assertThat(a.budgetCritical()).isEqualTo(0.95);
        assertThat(a.bypassWarn()).isEqualTo(10);
        assertThat(a.fireAfter()).isEqualTo(Duration.ofSeconds(10));
        assertThat(a.resolveAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(a.resolveMargin()).isEqualTo(0.05);
        assertThat(a.webhook()).isNull();
        assertThat(a.enabled("SluiceBudgetHigh")).isTrue();
        assertThat(cfg.settings().statsListen()).isEqualTo(StatsListen.DEFAULT);
        assertThat(cfg.settings().statsListen().explicit()).isFalse();
    }

    @Test
    void everyKeyIsRead() throws Exception {
        SluiceConfig cfg = ConfigLoader.load(write("stats_listen = *:9187\n", """
                budget_warn = 70%
                budget_critical = 90
                bypass_warn = 3
                shed_warn = off
                auth_failures_warn = 5
                fire_after = 2s
                resolve_after = 1min
                resolve_margin = 10%
                webhook = https://hooks.example.com/services/T000/B000/XXX
                webhook_format = slack
                disable = sluiceleaksuspect, SluiceBypassHigh
                """));
        AlertsConfig a = cfg.alerts();
        assertThat(a.budgetWarn()).isEqualTo(0.70);
        assertThat(a.budgetCritical()).isEqualTo(0.90);
        assertThat(a.bypassWarn()).isEqualTo(3);
        assertThat(a.shedWarn()).isEqualTo(AlertsConfig.OFF);
        assertThat(a.enabled("SluiceWorkloadShedding")).isFalse();
        assertThat(a.authFailuresWarn()).isEqualTo(5);
        assertThat(a.fireAfter()).isEqualTo(Duration.ofSeconds(2));
        assertThat(a.resolveAfter()).isEqualTo(Duration.ofMinutes(1));
        assertThat(a.resolveMargin()).isEqualTo(0.10);
        assertThat(a.webhook()).hasHost("hooks.example.com");
        assertThat(a.webhookFormat()).isEqualTo("slack");
        assertThat(a.disabled()).containsExactlyInAnyOrder("SluiceLeakSuspect", "SluiceBypassHigh");
        assertThat(a.enabled("SluiceLeakSuspect")).isFalse();
        StatsListen l = cfg.settings().statsListen();
        assertThat(l.allAddresses()).isTrue();
        assertThat(l.port()).isEqualTo(9187);
        assertThat(l.explicit()).isTrue();
    }

    @Test
    void statsListenForms() throws Exception {
        assertThat(ConfigLoader.load(write("stats_listen = off\n", "")).settings().statsListen()).isNull();
        assertThat(ConfigLoader.load(write("stats_listen =\n", "")).settings().statsListen()).isNull();
        StatsListen v6 = ConfigLoader.load(write("stats_listen = [::1]:9930\n", "")).settings().statsListen();
        assertThat(v6.host()).isEqualTo("::1");
        assertThat(v6.toString()).isEqualTo("[::1]:9930");
    }

    @Test
    void badLinesAreReportedAllAtOnceWithFileAndLine() throws Exception {
        Path ini = write("stats_listen = 9930\n", """
                budget_warn = 120%
                budget_critical = lots
                bypass_warn = -1
                fire_after = soon
                webhook = ftp://example.com/hook
                webhook_format = xml
                disable = SluiceEverything
                budget_wrn = 80%
                """);
        assertThatThrownBy(() -> ConfigLoader.load(ini)).isInstanceOf(ConfigException.class).satisfies(e -> {
            List<ConfigProblem> p = ((ConfigException) e).problems();
            assertThat(p).extracting(ConfigProblem::line).containsExactly(5, 7, 8, 9, 10, 11, 12, 13, 14);
            assertThat(p).allSatisfy(x -> assertThat(x.file()).isEqualTo(ini));
            assertThat(p.get(0).message()).contains("stats_listen").contains("has no port");
            assertThat(p.get(1).message()).contains("[alerts] budget_warn").contains("out of range");
            assertThat(p.get(2).message()).contains("budget_critical").contains("not a percentage");
            assertThat(p.get(3).message()).contains("bypass_warn").contains("negative");
            assertThat(p.get(4).message()).contains("fire_after").contains("not a duration");
            assertThat(p.get(5).message()).contains("webhook").contains("not an http:// or https:// URL");
            assertThat(p.get(6).message()).contains("webhook_format").contains("use json").contains("slack");
            assertThat(p.get(7).message()).contains("no alert is named 'SluiceEverything'").contains("SluiceBudgetHigh");
            assertThat(p.get(8).message()).contains("unknown key 'budget_wrn'").contains("did you mean 'budget_warn'");
        });
    }

    @Test
    void criticalBelowWarnIsRefused() throws Exception {
        Path ini = write("", "budget_warn = 90%\nbudget_critical = 85%\n");
        assertThatThrownBy(() -> ConfigLoader.load(ini)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sluice.ini:7: [alerts] budget_critical (85%) is below budget_warn (90%)");
    }
}
