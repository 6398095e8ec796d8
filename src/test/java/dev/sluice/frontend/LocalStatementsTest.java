package dev.sluice.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalStatementsTest {

    /** A Query frame ('Q', length, SQL, NUL) around {@code sql}. */
    private static ByteBuf query(String sql) {
        byte[] b = sql.getBytes(StandardCharsets.UTF_8);
        ByteBuf f = Unpooled.buffer();
        f.writeByte('Q').writeInt(4 + b.length + 1).writeBytes(b).writeByte(0);
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET search_path = a", "set x to 1", "  \n\tSeT\tx = 1", "RESET search_path",
        "\u000B reset all", "SET SESSION application_name = 'a'"})
    void setAndResetAreRecognisedOnTheRawBytes(String sql) {
        assertThat(LocalStatements.startsWithSetOrReset(query(sql), 5)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1", "settle", "SETx = 1", "resetting", "", " ", "SET", "update set x = 1",
        "select set_config('a','b',false)", "RESET"})
    void everythingElseIsNot(String sql) {
        assertThat(LocalStatements.startsWithSetOrReset(query(sql), 5)).isFalse();
    }

    @Test
    void theKeywordCheckAgreesWithThePatternsItGuards() {
        // Every statement the patterns accept passes the cheap check (it must never hide a match).
        for (String sql : new String[] {"SET search_path = a", " set x to 'y'", "RESET x", "\tSET application_name = 'p'"}) {
            boolean matched = LocalStatements.sessionSetting(sql) != null || LocalStatements.applicationNameSet(sql) != null;
            assertThat(matched).as(sql).isTrue();
            assertThat(LocalStatements.startsWithSetOrReset(query(sql), 5)).as(sql).isTrue();
        }
        assertThat(LocalStatements.startsWithSet(query("RESET x"), 5)).isFalse();
        assertThat(LocalStatements.startsWithSet(query(" set application_name = 'p'"), 5)).isTrue();
    }

    /**
     * A SET whose value is a long run of quotes that then fails to match: the value pattern once split the
     * quotes into strings and doubled quotes in exponentially many ways, keeping the event loop busy for hours
     * (found by fuzzing). 300 quotes take microseconds now; the bound is only there so a regression fails
     * instead of hanging the build.
     */
    @Test
    void aSetOfManyQuotesIsJudgedInLinearTime() {
        String sql = "SET x = " + "'".repeat(300) + ";x";
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> assertThat(LocalStatements.sessionSetting(sql)).isNull());
        // Doubled quotes are still read as SQL reads them: one string.
        assertThat(LocalStatements.sessionSetting("SET x = 'it''s'")).containsExactly("x", "'it''s'");
        assertThat(LocalStatements.sessionSetting("SET x = 'a' , 'b''' ;")).containsExactly("x", "'a' , 'b'''");
    }

    /**
     * Long runs of blanks where the patterns once allowed blanks on both sides of a lazy group (cubic:
     * 58 s for 5,000 blanks in SET SESSION CHARACTERISTICS): judged at once, and over 500 characters not at all.
     */
    @Test
    void longBlankRunsAreJudgedQuickly() {
        String blanks = " ".repeat(480);
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
            assertThat(LocalStatements.sessionSetting("SET SESSION CHARACTERISTICS AS TRANSACTION x" + blanks + "x;y")).isNull();
            assertThat(LocalStatements.applicationNameSet("SET application_name" + blanks + "x")).isNull();
            assertThat(LocalStatements.applicationNameSet("SET application_name" + " ".repeat(100_000) + "x")).isNull();
            assertThat(LocalStatements.sessionSetting("SET x =" + blanks + "1 ;y")).isNull();
        });
        assertThat(LocalStatements.sessionSetting("  SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY ;  "))
                .containsExactly("default_transaction_read_only", "on");
        assertThat(LocalStatements.sessionSetting("\tset  x  TO  'a' ; ")).containsExactly("x", "'a'");
        assertThat(LocalStatements.applicationNameSet(" SET application_name TO 'app' ;\n")).isEqualTo("app");
        assertThat(LocalStatements.sessionSetting(" RESET ALL; ")).containsExactly(LocalStatements.ALL, null);
    }
}
