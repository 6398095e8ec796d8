package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.protocol.ProtocolException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StartupParametersTest {
    @Test
    void startupParametersBecomeCanonicalSettingsWithOptionsUnpacked() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "u");
        p.put("database", "d");
        p.put("datestyle", "ISO");
        p.put("application_name", "api");
        p.put("extra_float_digits", "2");
        p.put("options", "-c search_path=a,b --statement-timeout=5s -cwork_mem=64MB -c my.var=x\\ y");
        Map<String, String> s = StartupParameters.fromStartup(p, List.of("extra_float_digits"));
        assertThat(s).containsExactly(
                Map.entry("search_path", "a,b"), Map.entry("statement_timeout", "5s"), Map.entry("work_mem", "64MB"),
                Map.entry("my.var", "x y"), Map.entry("DateStyle", "ISO"), Map.entry("application_name", "api"));
    }

    @Test
    void explicitParametersOverrideOptionsLikePostgres() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("user", "u");
        p.put("options", "-c TimeZone=UTC");
        p.put("TimeZone", "Europe/Paris");
        assertThat(StartupParameters.fromStartup(p, List.of())).containsEntry("TimeZone", "Europe/Paris");
    }

    @Test
    void unsupportedOptionsAreRefusedWithTheirName() {
        Map<String, String> p = Map.of("user", "u", "options", "-D /tmp");
        assertThatThrownBy(() -> StartupParameters.fromStartup(p, List.of()))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("-D");
    }

    @Test
    void literalsAreSafeWhateverStandardConformingStrings() {
        assertThat(StartupParameters.literal("it's")).isEqualTo("'it''s'");
        assertThat(StartupParameters.literal("a\\b")).isEqualTo("E'a\\\\b'");
        assertThat(StartupParameters.set("TimeZone", "UTC")).isEqualTo("SET TimeZone TO 'UTC';");
    }

    @Test
    void parameterNamesAreGucNames() {
        for (String ok : new String[] {"a", "_x", "TimeZone", "search_path", "my.custom_setting", "a1", "Z9._"}) {
            assertThat(StartupParameters.isName(ok)).as(ok).isTrue();
        }
        for (String bad : new String[] {"", "1a", ".a", "a-b", "a b", "a;b", "é", "a\u0000", "x=y"}) {
            assertThat(StartupParameters.isName(bad)).as(bad).isFalse();
        }
    }
}
