package dev.sluice.frontend;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises the few statements Sluice can answer itself, exactly and conservatively: anything that does
 * not match the narrow pattern goes to PostgreSQL as usual.
 */
final class LocalStatements {
    private LocalStatements() {}

    private static final Pattern SET_APPLICATION_NAME = Pattern.compile(
            "\\s*SET\\s+(?:SESSION\\s+)?application_name\\s*(?:=|\\s+TO\\s+)\\s*'((?:[^'\\\\]|'')*)'\\s*;?\\s*",
            Pattern.CASE_INSENSITIVE);

    /** The value of a plain {@code SET application_name = '...'}, or null when {@code sql} is anything else. */
    static String applicationNameSet(String sql) {
        Matcher m = SET_APPLICATION_NAME.matcher(sql);
        if (!m.matches()) {
            return null;
        }
        String v = m.group(1).replace("''", "'");
        // PostgreSQL truncates application_name to NAMEDATALEN-1 bytes and replaces non-ASCII: leave those to it.
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 32 || c > 126) {
                return null;
            }
        }
        return v.length() < 64 ? v : null;
    }
}
