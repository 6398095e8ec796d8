package dev.sluice.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every parser throws IllegalArgumentException whose message describes the value and what was expected;
 * callers prefix the setting name and location.
 */
// Turns setting text into typed values: whole numbers, booleans, durations, sizes, lists.
final class Values {

    private static final Pattern INTEGER = Pattern.compile("\\+?[0-9]+");
    private static final Pattern DURATION = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)\\s*([a-zA-Z]*)");
    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*([a-zA-Z]*)");
    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    private Values() {
    }

    /**
     * Removes one pair of surrounding quotes ("..." or '...') when they enclose the whole value, with a
     * doubled quote standing for one. Anything else is returned unchanged, so a connection string such
     * as host='a' dbname='b' keeps its own quoting.
     */
    static String unquote(String value) {
        if (value.length() < 2) {
            return value;
        }
        char q = value.charAt(0);
        if ((q != '"' && q != '\'') || value.charAt(value.length() - 1) != q) {
            return value;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 1; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c == q) {
                if (i + 1 < value.length() - 1 && value.charAt(i + 1) == q) {
                    out.append(q);
                    i++;
                    continue;
                }
                return value; // a lone quote inside: these are several quoted parts, not one quoted value
            }
            out.append(c);
        }
        return out.toString();
    }

    /** A whole number between min and max inclusive. */
    static int intInRange(String value, int min, int max) {
        String v = value.strip();
        if (v.startsWith("-") && INTEGER.matcher(v.substring(1)).matches()) {
            throw new IllegalArgumentException(v + " is negative; use a number from " + min
                    + (max == Integer.MAX_VALUE ? " up" : " to " + max));
        }
        if (!INTEGER.matcher(v).matches()) {
            throw new IllegalArgumentException(quoted(v) + " is not a whole number" + commentHint(v));
        }
        long n;
        try {
            n = Long.parseLong(v.startsWith("+") ? v.substring(1) : v);
        } catch (NumberFormatException e) {
            n = Long.MAX_VALUE; // too many digits: certainly above max
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(v + " is out of range; use a number from " + min
                    + (max == Integer.MAX_VALUE ? " up" : " to " + max));
        }
        return (int) n;
    }

    static int nonNegativeInt(String value) {
        return intInRange(value, 0, Integer.MAX_VALUE);
    }

    /** 0/1, on/off, true/false, yes/no, ignoring case. */
    static boolean bool(String value) {
        switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "1", "on", "true", "yes":
                return true;
            case "0", "off", "false", "no":
                return false;
            default:
                throw new IllegalArgumentException(quoted(value.strip())
                        + " is not a boolean; use 1 or 0 (on/off, true/false, yes/no also work)" + commentHint(value));
        }
    }

    /**
     * Seconds, possibly fractional, as PgBouncer writes times ("30", "0.5"), or a number with a unit:
     * us, ms, s, min, h, d (also spelled out: seconds, minutes, ...). Never negative.
     */
    static Duration duration(String value) {
        String v = value.strip();
        Matcher m = DURATION.matcher(v);
        if (!m.matches()) {
            throw new IllegalArgumentException(quoted(v) + " is not a duration"
                    + (v.startsWith("-") ? " (durations cannot be negative; 0 disables)" : "")
                    + "; write seconds (30, 0.5) or a number with a unit (500ms, 30s, 5min, 2h, 1d)" + commentHint(v));
        }
        BigDecimal amount = new BigDecimal(m.group(1).endsWith(".") ? m.group(1) + "0" : m.group(1));
        long nanosPerUnit = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "us", "usec", "microsecond", "microseconds" -> 1_000L;
            case "ms", "msec", "millisecond", "milliseconds" -> 1_000_000L;
            case "", "s", "sec", "secs", "second", "seconds" -> 1_000_000_000L;
            case "min", "mins", "minute", "minutes" -> 60_000_000_000L;
            case "h", "hr", "hour", "hours" -> 3_600_000_000_000L;
            case "d", "day", "days" -> 86_400_000_000_000L;
            case "m" -> throw new IllegalArgumentException(quoted(v)
                    + " is ambiguous; write min for minutes or ms for milliseconds");
            default -> throw new IllegalArgumentException(quoted(v) + " has an unknown time unit "
                    + quoted(m.group(2)) + "; use us, ms, s, min, h or d");
        };
        BigInteger nanos = amount.multiply(BigDecimal.valueOf(nanosPerUnit)).toBigInteger();
        if (nanos.bitLength() > 62) {
            throw new IllegalArgumentException(quoted(v) + " is too long a time");
        }
        return Duration.ofNanos(nanos.longValueExact());
    }

    /** Bytes, with an optional unit B, kB, MB, GB, TB (1024-based, as in PostgreSQL; case ignored). */
    static long size(String value) {
        String v = value.strip();
        Matcher m = SIZE.matcher(v);
        if (!m.matches()) {
            throw new IllegalArgumentException(quoted(v)
                    + " is not a size; write bytes (8192) or a number with a unit (64kB, 16MB, 1GB)" + commentHint(v));
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 0;
            case "k", "kb", "kib" -> 10;
            case "m", "mb", "mib" -> 20;
            case "g", "gb", "gib" -> 30;
            case "t", "tb", "tib" -> 40;
            default -> throw new IllegalArgumentException(quoted(v) + " has an unknown size unit "
                    + quoted(m.group(2)) + "; use B, kB, MB, GB or TB");
        };
        try {
            return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        } catch (ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(quoted(v) + " is too large");
        }
    }

    /** A comma-separated list; blanks around items and empty items are dropped, quotes around items removed. */
    static List<String> list(String value) {
        List<String> out = new ArrayList<>();
        for (String item : value.split(",")) {
            String s = unquote(item.strip());
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The text of a list as {@link #list} reads it back, for SHOW CONFIG: items are joined with commas, an item
     * with blanks at either end or starting with a quote is double-quoted, and the whole is single-quoted when
     * the whole-value unquoting a setting goes through first would otherwise change it. Found by fuzzing: a
     * user name ending in a tab, shown bare, lost the tab when the shown value was SET again.
     */
    static String listText(List<String> items) {
        StringBuilder out = new StringBuilder();
        for (String item : items) {
            if (out.length() > 0) {
                out.append(',');
            }
            boolean quote = !item.equals(item.strip()) || item.startsWith("\"") || item.startsWith("'");
            out.append(quote ? '"' + item.replace("\"", "\"\"") + '"' : item);
        }
        String text = out.toString();
        return unquote(text).equals(text) ? text : "'" + text.replace("'", "''") + "'";
    }

    /** How a duration reads in messages: seconds, as pgbouncer.ini writes it ("5s", "0.5s"). */
    static String human(Duration d) {
        BigDecimal seconds = new BigDecimal(BigInteger.valueOf(d.toNanos())).divide(NANOS_PER_SECOND);
        return seconds.stripTrailingZeros().toPlainString() + "s";
    }

    static String quoted(String v) {
        return "'" + v + "'";
    }

    /** A nudge for the common mistake of a trailing comment, which PgBouncer's format does not have. */
    private static String commentHint(String v) {
        return v.contains(";") || v.contains("#")
                ? " (';' and '#' start a comment only at the beginning of a line)"
                : "";
    }
}
