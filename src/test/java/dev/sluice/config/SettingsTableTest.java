package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SHOW CONFIG rows and SET, validated like the file. */
class SettingsTableTest {
    private final Settings d = Settings.defaults();

    @Test
    void everyImplementedSettingIsShownWithItsDefault() {
        List<SettingsTable.Row> rows = SettingsTable.rows(d);
        assertThat(rows).extracting(SettingsTable.Row::key)
                .containsExactlyInAnyOrderElementsOf(SettingsParser.implemented())
                .isSorted();
        assertThat(rows).allMatch(r -> r.value().equals(r.defaultValue()));
        SettingsTable.Row qwt = rows.stream().filter(r -> r.key().equals("query_wait_timeout")).findFirst().orElseThrow();
        assertThat(qwt.value()).isEqualTo("120");
        assertThat(qwt.changeable()).isTrue();
        assertThat(rows.stream().filter(r -> r.key().equals("listen_port")).findFirst().orElseThrow().changeable())
                .isFalse();
    }

    @Test
    void setParsesValuesLikeTheFile() throws ConfigException {
        Settings s = SettingsTable.set(d, "query_wait_timeout", "500ms").settings();
        assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(SettingsTable.rows(s).stream().filter(r -> r.key().equals("query_wait_timeout")).findFirst()
                .orElseThrow().value()).isEqualTo("0.5");
        s = SettingsTable.set(s, "DEFAULT_POOL_SIZE", "7").settings();
        assertThat(s.defaultPoolSize()).isEqualTo(7);
        assertThat(s.queryWaitTimeout()).isEqualTo(Duration.ofMillis(500)); // earlier SET kept
        assertThat(SettingsTable.set(d, "admin_users", "a, b").settings().adminUsers()).containsExactly("a", "b");
        assertThat(SettingsTable.set(d, "log_connections", "off").settings().logConnections()).isFalse();
    }

    @Test
    void setRejectsWhatTheFileWouldReject() {
        assertThatThrownBy(() -> SettingsTable.set(d, "default_pool_size", "0"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("too small");
        assertThatThrownBy(() -> SettingsTable.set(d, "pool_mode", "statement"))
                .hasMessageContaining("statement pooling is not supported");
        assertThatThrownBy(() -> SettingsTable.set(d, "min_pool_size", "50"))
                .hasMessageContaining("larger than default_pool_size");
        assertThatThrownBy(() -> SettingsTable.set(d, "listen_addr", "0.0.0.0")).hasMessageContaining("restart");
        assertThatThrownBy(() -> SettingsTable.set(d, "auth_file", "x.txt")).hasMessageContaining("RELOAD");
        assertThatThrownBy(() -> SettingsTable.set(d, "query_wait_timout", "1"))
                .hasMessageContaining("did you mean 'query_wait_timeout'");
    }

    @Test
    void recognisedButUnimplementedSettingsWarn() throws ConfigException {
        SettingsTable.Change c = SettingsTable.set(d, "server_round_robin", "1");
        assertThat(c.settings()).isEqualTo(d);
        assertThat(c.warnings()).singleElement().asString().contains("not implemented by Sluice");
        assertThat(SettingsTable.isKnown("server_round_robin")).isTrue();
        assertThat(SettingsTable.isKnown("nonsense")).isFalse();
    }

    @Test
    void reloadKeepsWhatNeedsARestart() throws ConfigException {
        Settings loaded = SettingsTable.set(SettingsTable.set(d, "default_pool_size", "9").settings(),
                "stats_period", "10").settings();
        SettingsBuilder b = new SettingsBuilder(loaded);
        b.listenPort = 7777;
        List<String> notes = new ArrayList<>();
        Settings merged = SettingsTable.forReload(d, b.build(), notes);
        assertThat(merged.listenPort()).isEqualTo(d.listenPort());
        assertThat(merged.defaultPoolSize()).isEqualTo(9);
        assertThat(merged.statsPeriod()).isEqualTo(Duration.ofSeconds(10));
        assertThat(notes).singleElement().asString().contains("listen_port").contains("restart");
    }
}
