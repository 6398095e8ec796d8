package dev.sluice.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The libpq-like "key=value key='quoted value'" syntax of [databases] and [users] values. Blanks may
 * surround '='. In a single-quoted value, '' and \' stand for a quote and \\ for a backslash; in an
 * unquoted value a backslash escapes the next character. Keys are lower-cased.
 */
// Splits a [databases]/[users] connection string into key/value pairs, in order.
final class ConnString {

    /** One key=value pair from a connection string. */
    record Param(String key, String value) {
    }

    private ConnString() {
    }

    /** @throws IllegalArgumentException describing the first syntax error and where it is */
    static List<Param> parse(String text) {
        List<Param> params = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (true) {
            i = skipBlanks(text, i);
            if (i >= n) {
                return params;
            }
            int keyStart = i;
            while (i < n && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
                i++;
            }
            if (i == keyStart) {
                throw new IllegalArgumentException("expected a key at " + at(text, keyStart));
            }
            String key = text.substring(keyStart, i).toLowerCase(Locale.ROOT);
            i = skipBlanks(text, i);
            if (i >= n || text.charAt(i) != '=') {
                throw new IllegalArgumentException("expected '=' after " + key + " (write " + key + "=value)");
            }
            int afterEquals = i + 1;
            i = skipBlanks(text, afterEquals);
            StringBuilder value = new StringBuilder();
            if (i < n && text.charAt(i) == '\'') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char c = text.charAt(i);
                    if (c == '\\' && i + 1 < n) {
                        value.append(text.charAt(i + 1));
                        i += 2;
                    } else if (c == '\'' && i + 1 < n && text.charAt(i + 1) == '\'') {
                        value.append('\'');
                        i += 2;
                    } else if (c == '\'') {
                        closed = true;
                        i++;
                        break;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("the quoted value of " + key
                            + " is not closed; end it with ' (write '' or \\' for a quote inside)");
                }
                if (i < n && !Character.isWhitespace(text.charAt(i))) {
                    throw new IllegalArgumentException("expected a blank after the quoted value of " + key
                            + " at " + at(text, i));
                }
            } else {
                int valueStart = i;
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    char c = text.charAt(i);
                    if (c == '\\' && i + 1 < n) {
                        value.append(text.charAt(i + 1));
                        i += 2;
                    } else {
                        value.append(c);
                        i++;
                    }
                }
                if (valueStart > afterEquals && value.indexOf("=") >= 0) {
                    // "user= password=x" would otherwise silently make the user "password=x".
                    throw new IllegalArgumentException(key + "= has no value; write " + key
                            + "='' for an empty value, or remove it");
                }
            }
            params.add(new Param(key, value.toString()));
        }
    }

    private static int skipBlanks(String text, int i) {
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static String at(String text, int i) {
        String rest = text.substring(i);
        return "'" + (rest.length() > 20 ? rest.substring(0, 20) + "..." : rest) + "'";
    }
}
