package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

// Typed setting values: durations, sizes, booleans, numbers, lists, quoting.
class ValuesTest {

    @ParameterizedTest
    @CsvSource({
            "30, 30000",
            "0, 0",
            "0.5, 500",
            "1.25, 1250",
            ".5, 500",
            "5., 5000",
            "500ms, 500",
            "30s, 30000",
            "30 s, 30000",
            "5min, 300000",
            "2h, 7200000",
            "1d, 86400000",
            "1.5min, 90000",
            "2 minutes, 120000",
    })
    void durations(String text, long millis) {
        assertThat(Values.duration(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @Test
    void badDurations() {
        assertThatThrownBy(() -> Values.duration("-5")).hasMessageContaining("cannot be negative");
        assertThatThrownBy(() -> Values.duration("5m")).hasMessageContaining("ambiguous");
        assertThatThrownBy(() -> Values.duration("5 fortnights")).hasMessageContaining("unknown time unit 'fortnights'");
        assertThatThrownBy(() -> Values.duration("soon")).hasMessageStartingWith("'soon' is not a duration");
    }

    @ParameterizedTest
    @CsvSource({"8192, 8192", "64kB, 65536", "16MB, 16777216", "1GB, 1073741824", "2 gb, 2147483648", "10B, 10"})
    void sizes(String text, long bytes) {
        assertThat(Values.size(text)).isEqualTo(bytes);
    }

    @Test
    void badSizes() {
        assertThatThrownBy(() -> Values.size("12 parsecs")).hasMessageContaining("unknown size unit");
        assertThatThrownBy(() -> Values.size("99999999999TB")).hasMessageContaining("too large");
    }

    @Test
    void booleans() {
        for (String t : new String[] {"1", "on", "TRUE", "yes"}) {
            assertThat(Values.bool(t)).as(t).isTrue();
        }
        for (String f : new String[] {"0", "Off", "false", "NO"}) {
            assertThat(Values.bool(f)).as(f).isFalse();
        }
        assertThatThrownBy(() -> Values.bool("2")).hasMessageStartingWith("'2' is not a boolean");
    }

    @Test
    void wholeNumbers() {
        assertThat(Values.intInRange("6432", 1, 65535)).isEqualTo(6432);
        assertThat(Values.intInRange("+7", 1, 10)).isEqualTo(7);
        assertThatThrownBy(() -> Values.intInRange("-3", 0, 10)).hasMessageStartingWith("-3 is negative");
        assertThatThrownBy(() -> Values.intInRange("99999999999999999999", 0, 10)).hasMessageContaining("out of range");
        assertThatThrownBy(() -> Values.intInRange("1e3", 0, 10000)).hasMessageContaining("not a whole number");
    }

    @Test
    void unquoteOnlyWholeValues() {
        assertThat(Values.unquote("\"abc\"")).isEqualTo("abc");
        assertThat(Values.unquote("'it''s'")).isEqualTo("it's");
        assertThat(Values.unquote("\"a\" \"b\"")).isEqualTo("\"a\" \"b\"");
        assertThat(Values.unquote("host='x'")).isEqualTo("host='x'");
        assertThat(Values.unquote("\"")).isEqualTo("\"");
    }

    @Test
    void lists() {
        assertThat(Values.list(" a, b ,,\"c\" ")).containsExactly("a", "b", "c");
        assertThat(Values.list("")).isEmpty();
    }

    @Test
    void humanDurations() {
        assertThat(Values.human(Duration.ofSeconds(5))).isEqualTo("5s");
        assertThat(Values.human(Duration.ofMillis(1500))).isEqualTo("1.5s");
        assertThat(Values.human(Duration.ZERO)).isEqualTo("0s");
    }

    @Test
    void listTextReadsBackAsTheSameItems() {
        assertThat(Values.listText(List.of("alice", "bob"))).isEqualTo("alice,bob");
        assertThat(Values.listText(List.of())).isEmpty();
        List<List<String>> cases = new ArrayList<>(List.of(
                List.of("alice", "bob\t"), List.of(" x "), List.of("\"\" x \"\""), List.of("'a'", "b"),
                List.of("\"q"), List.of("a\"", "'"), List.of("it's", " it's ")));
        // Random items over the characters that matter to the quoting: blanks, both quotes, letters.
        Random random = new Random(42);
        String alphabet = " \t'\"ab";
        for (int n = 0; n < 20_000; n++) {
            List<String> items = new ArrayList<>();
            for (int i = random.nextInt(3) + 1; i > 0; i--) {
                StringBuilder item = new StringBuilder();
                for (int c = random.nextInt(6) + 1; c > 0; c--) {
                    item.append(alphabet.charAt(random.nextInt(alphabet.length())));
                }
                if (!item.toString().isBlank()) {
                    items.add(item.toString());
                }
            }
            cases.add(items);
        }
        for (List<String> items : cases) {
            // What a setting goes through: the whole value unquoted, then split into items.
            List<String> back = Values.list(Values.unquote(Values.listText(items)));
            if (items.stream().noneMatch(item -> item.contains(","))) {
                assertThat(back).as("items %s shown as %s", items, Values.listText(items)).isEqualTo(items);
            }
        }
    }
}
