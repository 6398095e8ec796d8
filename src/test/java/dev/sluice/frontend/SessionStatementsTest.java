package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.protocol.BackendMessages.CommandComplete;
import dev.sluice.protocol.FrontendMessages.Query;
import dev.sluice.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.Test;

/** Which statements transaction mode carries (LocalStatements) and which pin a client (SessionState), from real frames. */
class SessionStatementsTest {
    private static String pin(String tag, boolean carried, String statement) {
        ByteBuf f = PgMessage.encodeAll(ByteBufAllocator.DEFAULT, new CommandComplete(tag));
        try {
            return SessionState.pinReason(f, carried, statement);
        } finally {
            f.release();
        }
    }

    private static String textPin(String sql) {
        ByteBuf f = PgMessage.encodeAll(ByteBufAllocator.DEFAULT, new Query(sql));
        try {
            return SessionState.textMayChangeSession(f) ? SessionState.textPinReason(f) : null;
        } finally {
            f.release();
        }
    }

    @Test
    void resetsAndDefaultsAreCarriedAsResets() {
        assertThat(LocalStatements.sessionSetting("RESET search_path")).containsExactly("search_path", null);
        assertThat(LocalStatements.sessionSetting("set search_path to default;")).containsExactly("search_path", null);
        assertThat(LocalStatements.sessionSetting("SET TimeZone = DEFAULT")).containsExactly("TimeZone", null);
        assertThat(LocalStatements.sessionSetting(" reset all ;")).containsExactly(LocalStatements.ALL, null);
        assertThat(LocalStatements.sessionSetting("DISCARD ALL")).containsExactly(LocalStatements.ALL, null);
        assertThat(LocalStatements.sessionSetting("DISCARD TEMP")).isNull();
        assertThat(LocalStatements.sessionSetting("RESET ROLE")).isNull();
    }

    @Test
    void sessionCharacteristicsAreTheDefaultTransactionSettingsTheyStandFor() {
        assertThat(LocalStatements.sessionSetting("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
                .containsExactly("default_transaction_read_only", "on");
        assertThat(LocalStatements.sessionSetting(
                "set session characteristics as transaction isolation level repeatable  read, read write, deferrable;"))
                .containsExactly("default_transaction_isolation", "'repeatable read'",
                        "default_transaction_read_only", "off", "default_transaction_deferrable", "on");
        assertThat(LocalStatements.sessionSetting("SET SESSION CHARACTERISTICS AS TRANSACTION NOT DEFERRABLE"))
                .containsExactly("default_transaction_deferrable", "off");
        // Not a list of modes Sluice understands: left to PostgreSQL, not carried.
        assertThat(LocalStatements.sessionSetting("SET SESSION CHARACTERISTICS AS TRANSACTION READ SOMETIMES")).isNull();
        assertThat(LocalStatements.sessionSetting("SET TRANSACTION READ ONLY")).isNull();
    }

    @Test
    void stateSluiceCannotCarryPinsWithAStableReason() {
        assertThat(pin("LISTEN", false, "LISTEN jobs")).isEqualTo("listen");
        assertThat(pin("PREPARE", false, "PREPARE q AS SELECT 1")).isEqualTo("prepare");
        assertThat(pin("DECLARE CURSOR", false, "DECLARE c CURSOR WITH HOLD FOR SELECT 1")).isEqualTo("cursor_with_hold");
        assertThat(pin("SET", false, "SET ROLE app_reader")).isEqualTo("set_role");
        assertThat(pin("SET", false, "set session authorization bob")).isEqualTo("session_authorization");
        assertThat(pin("SET", false, "SET foo = 1; SET bar = 2")).isEqualTo("set");
        assertThat(textPin("CREATE TEMP TABLE t (x int)")).isEqualTo("temp_table");
        assertThat(textPin("SELECT pg_advisory_lock(1)")).isEqualTo("advisory_lock");
        assertThat(textPin("SELECT set_config('search_path', 'x', false)")).isEqualTo("set_config");
    }

    @Test
    void carriedOrTransactionScopedStateDoesNotPin() {
        assertThat(pin("SET", true, "SET search_path = a")).isNull();
        assertThat(pin("SET", false, "SET LOCAL search_path = a")).isNull();
        assertThat(pin("SET", false, "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")).isNull();
        assertThat(pin("RESET", false, "RESET ROLE")).isNull();
        assertThat(pin("DECLARE CURSOR", false, "DECLARE c CURSOR FOR SELECT 1")).isNull();
        assertThat(pin("CREATE TABLE", false, "CREATE TABLE t (x int)")).isNull();
        assertThat(textPin("SELECT pg_advisory_xact_lock(1)")).isNull();
        assertThat(textPin("SELECT * FROM temperatures")).isNull();
    }
}
