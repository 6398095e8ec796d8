package dev.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GlobTest {

    @Test
    void examples() {
        assertThat(WorkloadConfig.Glob.matches("analytics-*", "analytics-job-7")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("analytics-*", "analytics")).isFalse();
        assertThat(WorkloadConfig.Glob.matches("*", "")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("", "")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("", "a")).isFalse();
        assertThat(WorkloadConfig.Glob.matches("a?c", "abc")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("a?c", "ac")).isFalse();
        assertThat(WorkloadConfig.Glob.matches("*job*", "nightly-job-3")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("a*b*c", "aXbYbZc")).isTrue();
        assertThat(WorkloadConfig.Glob.matches("a*b*c", "aXbYbZ")).isFalse();
        assertThat(WorkloadConfig.Glob.matches("a.b", "aXb")).isFalse(); // '.' is literal, not a regex
    }

    /** The matcher agrees with the glob's translation to a regular expression on many random cases. */
    @Test
    void agreesWithTheRegexTranslation() {
        Random r = new Random(7);
        String alphabet = "ab*?.";
        for (int n = 0; n < 20_000; n++) {
            String glob = random(r, alphabet, 6);
            String s = random(r, "ab.", 8);
            assertThat(WorkloadConfig.Glob.matches(glob, s)).as("%s ~ %s", glob, s).isEqualTo(regex(glob).matcher(s).matches());
        }
    }

    private static String random(Random r, String alphabet, int maxLen) {
        StringBuilder sb = new StringBuilder();
        for (int i = r.nextInt(maxLen + 1); i > 0; i--) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    private static Pattern regex(String glob) {
        StringBuilder sb = new StringBuilder();
        for (char c : glob.toCharArray()) {
            sb.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(sb.toString(), Pattern.DOTALL);
    }
}
