package dev.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The console grammar: case, semicolons, optional and required names, SET values. */
class AdminCommandTest {
    private static AdminCommand parse(String sql) throws AdminException {
        return AdminCommand.parse(sql);
    }

    private static void rejected(String sql, String sqlState, String message) {
        assertThatThrownBy(() -> parse(sql))
                .isInstanceOf(AdminException.class)
                .satisfies(e -> {
                    assertThat(((AdminException) e).sqlState()).isEqualTo(sqlState);
                    assertThat(e.getMessage()).contains(message);
                });
    }

    @Test
    void showIsCaseInsensitiveWithOptionalSemicolons() throws Exception {
        assertThat(parse("SHOW POOLS")).isEqualTo(new AdminCommand.Show("POOLS"));
        assertThat(parse("  show pools ;; ")).isEqualTo(new AdminCommand.Show("POOLS"));
        assertThat(parse("Show Stats_Totals;")).isEqualTo(new AdminCommand.Show("STATS_TOTALS"));
        assertThat(parse("show\n\tclients")).isEqualTo(new AdminCommand.Show("CLIENTS"));
        assertThat(parse(" ; ")).isNull();
        assertThat(parse("")).isNull();
        rejected("SHOW", "42601", "invalid command 'SHOW', use SHOW HELP;");
        rejected("SHOW POOLS now", "42601", "invalid command");
    }

    @Test
    void databaseArguments() throws Exception {
        assertThat(parse("PAUSE")).isEqualTo(new AdminCommand.Pause(null));
        assertThat(parse("pause appdb;")).isEqualTo(new AdminCommand.Pause("appdb"));
        assertThat(parse("RESUME \"My DB\"")).isEqualTo(new AdminCommand.Resume("My DB"));
        assertThat(parse("KILL \"a\"\"b\"")).isEqualTo(new AdminCommand.Kill("a\"b"));
        assertThat(parse("KILL")).isEqualTo(new AdminCommand.Kill(null));
        assertThat(parse("RECONNECT")).isEqualTo(new AdminCommand.Reconnect(null));
        assertThat(parse("WAIT_CLOSE db1")).isEqualTo(new AdminCommand.WaitClose("db1"));
        assertThat(parse("disable db1")).isEqualTo(new AdminCommand.Disable("db1"));
        assertThat(parse("ENABLE db1")).isEqualTo(new AdminCommand.Enable("db1"));
        rejected("DISABLE", "42601", "a database is required");
        rejected("PAUSE a b", "42601", "invalid command");
        rejected("PAUSE \"open", "42601", "unterminated");
    }

    @Test
    void killClientTakesTheIdOrThePtr() throws Exception {
        assertThat(parse("KILL_CLIENT 42")).isEqualTo(new AdminCommand.KillClient(42));
        assertThat(parse("kill_client C-42;")).isEqualTo(new AdminCommand.KillClient(42));
        rejected("KILL_CLIENT x", "42601", "KILL_CLIENT takes the id column of SHOW CLIENTS");
        rejected("KILL_CLIENT", "42601", "invalid command");
    }

    @Test
    void setTakesAWordOrAQuotedString() throws Exception {
        assertThat(parse("SET default_pool_size = 30")).isEqualTo(new AdminCommand.SetSetting("default_pool_size", "30"));
        assertThat(parse("set Default_Pool_Size=30;")).isEqualTo(new AdminCommand.SetSetting("default_pool_size", "30"));
        assertThat(parse("SET server_check_query = 'select 2'"))
                .isEqualTo(new AdminCommand.SetSetting("server_check_query", "select 2"));
        assertThat(parse("SET server_reset_query = 'it''s'"))
                .isEqualTo(new AdminCommand.SetSetting("server_reset_query", "it's"));
        assertThat(parse("SET admin_users = ''")).isEqualTo(new AdminCommand.SetSetting("admin_users", ""));
        assertThat(parse("SET application_name TO 'psql'"))
                .isEqualTo(new AdminCommand.SetSetting("application_name", "psql"));
        rejected("SET default_pool_size", "42601", "write SET key = value");
        rejected("SET x = 'open", "42601", "unterminated");
    }

    @Test
    void otherCommands() throws Exception {
        assertThat(parse("RELOAD;")).isEqualTo(new AdminCommand.Reload());
        assertThat(parse("shutdown")).isEqualTo(new AdminCommand.Shutdown());
        assertThat(parse("SHUTDOWN WAIT_FOR_SERVERS")).isEqualTo(new AdminCommand.Shutdown());
        rejected("SHUTDOWN WAIT_FOR_CLIENTS", "0A000", "not supported");
        rejected("SUSPEND", "0A000", "not supported");
        rejected("SELECT 1", "42601", "invalid command 'SELECT 1', use SHOW HELP;");
        assertThat(parse("SHOW POOLS").readOnly()).isTrue();
        assertThat(parse("PAUSE").readOnly()).isFalse();
    }
}
