package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

// The libpq-like key=value syntax of [databases] and [users] values.
class ConnStringTest {

    private static ConnString.Param p(String k, String v) {
        return new ConnString.Param(k, v);
    }

    @Test
    void splitsPairsAndLowerCasesKeys() {
        assertThat(ConnString.parse("  Host=db1   port = 5433 dbname=shop "))
                .containsExactly(p("host", "db1"), p("port", "5433"), p("dbname", "shop"));
    }

    @Test
    void singleQuotedValuesWithBothEscapes() {
        assertThat(ConnString.parse("password='it''s' application_name='a \\'b\\' c' q='x\\\\y' e=''"))
                .containsExactly(p("password", "it's"), p("application_name", "a 'b' c"), p("q", "x\\y"), p("e", ""));
    }

    @Test
    void backslashEscapesInUnquotedValues() {
        assertThat(ConnString.parse("password=a\\ b")).containsExactly(p("password", "a b"));
    }

    @Test
    void emptyStringHasNoPairs() {
        assertThat(ConnString.parse("   ")).isEmpty();
    }

    @Test
    void syntaxErrorsSayWhatIsWrong() {
        assertThatThrownBy(() -> ConnString.parse("host='db")).hasMessageContaining("quoted value of host is not closed");
        assertThatThrownBy(() -> ConnString.parse("host db")).hasMessage("expected '=' after host (write host=value)");
        assertThatThrownBy(() -> ConnString.parse("=db")).hasMessageStartingWith("expected a key at '=db'");
        assertThatThrownBy(() -> ConnString.parse("host='a'b")).hasMessageContaining("expected a blank after");
        assertThatThrownBy(() -> ConnString.parse("user= password=x")).hasMessageStartingWith("user= has no value");
    }
}
