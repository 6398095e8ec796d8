package dev.sluice.replay;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command-line and scenario durations: "90s", "500ms", "1.5m", "2h"; a bare number means seconds. */
public final class Durations {
    private static final Pattern P = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|min|h)?");

    private Durations() {}

    public static Duration parse(String text) {
        Matcher m = P.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration; write e.g. 90s, 500ms, 2m");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double ms = switch (unit) {
            case "ms" -> v;
            case "s" -> v * 1000;
            case "m", "min" -> v * 60_000;
            default -> v * 3_600_000;
        };
        return Duration.ofMillis(Math.round(ms));
    }

    /** "90s", "1.5s", "250ms". */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms < 1000 ? ms + "ms" : String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }
}
