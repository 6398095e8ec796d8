package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.sluice.config.ConfigException;
import dev.sluice.config.Settings;
import dev.sluice.config.SettingsTable;
import dev.sluice.fuzz.Allocations;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Fuzzes the admin console's statement parser, {@link AdminCommand#parse}, with whatever text a console
 * client's Query may carry, and SET's value parser ({@link SettingsTable#set}) with whatever SET parses to.
 * Properties: the only failures are {@link AdminException} (with a SQLSTATE) and {@link ConfigException} (with
 * at least one problem); SHOW names come out upper-cased and SET keys lower-cased; a value SET accepted
 * is shown by SHOW CONFIG in a form that SET accepts again and shows the same (what the console promises);
 * allocation follows the statement's length.
 * Input: the statement text as UTF-8. Seeds: src/test/resources/dev/sluice/admin/AdminCommandFuzzTestInputs.
 */
class AdminCommandFuzzTest {
    private static final Settings DEFAULTS = Settings.defaults();

    @FuzzTest(maxDuration = "30s")
    void consoleStatements(byte[] input) {
        Allocations.assertBounded(input.length, 64 << 20, "console statement parsing", () -> parse(input));
    }

    private static void parse(byte[] input) {
        String sql = new String(input, StandardCharsets.UTF_8);
        AdminCommand command;
        try {
            command = AdminCommand.parse(sql);
        } catch (AdminException e) {
            assertThat(e.sqlState()).matches("[0-9A-Z]{5}");
            assertThat(e.getMessage()).isNotBlank();
            return;
        }
        if (command instanceof AdminCommand.Show show) {
            assertThat(show.what()).isEqualTo(show.what().toUpperCase(Locale.ROOT));
        } else if (command instanceof AdminCommand.SetSetting set) {
            assertThat(set.key()).isEqualTo(set.key().toLowerCase(Locale.ROOT));
            setRoundTrips(set.key(), set.value());
        }
    }

    /** SET key = value, then SET key = (what SHOW CONFIG shows) must be accepted and show the same. */
    private static void setRoundTrips(String key, String value) {
        SettingsTable.Change change;
        try {
            change = SettingsTable.set(DEFAULTS, key, value);
        } catch (ConfigException e) {
            assertThat(e.problems()).isNotEmpty();
            return;
        }
        String shown = shown(change.settings(), key);
        if (shown == null || key.equals("budget_password")) {
            return; // a recognised-but-ignored PgBouncer key (not in SHOW CONFIG), or a value shown masked
        }
        try {
            SettingsTable.Change again = SettingsTable.set(change.settings(), key, shown);
            assertThat(shown(again.settings(), key)).as("SHOW CONFIG value of %s pasted back into SET", key)
                    .isEqualTo(shown);
        } catch (ConfigException e) {
            throw new AssertionError("SET " + key + " accepted '" + value + "' and SHOW CONFIG shows '" + shown
                    + "', which SET then refuses: " + e.getMessage(), e);
        }
    }

    private static String shown(Settings settings, String key) {
        for (SettingsTable.Row row : SettingsTable.rows(settings)) {
            if (row.key().equals(key)) {
                return row.value();
            }
        }
        return null;
    }
}
