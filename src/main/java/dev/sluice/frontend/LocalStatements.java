package dev.sluice.frontend;

import io.netty.buffer.ByteBuf;
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

    private static final Pattern SESSION_SET = Pattern.compile(
            "\\s*SET\\s+(?:SESSION\\s+)?([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)\\s*(?:=|\\s+TO\\s+)\\s*"
                    + "((?:'(?:[^']|'')*'|\"[^\"]*\"|[^;'\"])+?)\\s*;?\\s*", Pattern.CASE_INSENSITIVE);

    private static final Pattern SESSION_RESET = Pattern.compile(
            "\\s*RESET\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)\\s*;?\\s*", Pattern.CASE_INSENSITIVE);

    /**
     * Whether the SQL text at {@code from} (after leading whitespace) starts with the keyword SET or RESET
     * (any case) followed by whitespace. Checked on the raw bytes of every Query/Parse before anything is
     * decoded, so the regular expressions below only ever run for statements that can match them.
     */
    static boolean startsWithSetOrReset(ByteBuf frame, int from) {
        int end = frame.writerIndex();
        int i = from;
        while (i < end && isSpace(frame.getByte(i))) {
            i++;
        }
        if (i + 4 <= end && keywordAt(frame, i, SET)) {
            return true;
        }
        return i + 6 <= end && keywordAt(frame, i, RESET);
    }

    /** Only SET (not RESET): what {@link #applicationNameSet} can match. */
    static boolean startsWithSet(ByteBuf frame, int from) {
        int end = frame.writerIndex();
        int i = from;
        while (i < end && isSpace(frame.getByte(i))) {
            i++;
        }
        return i + 4 <= end && keywordAt(frame, i, SET);
    }

    private static final byte[] SET = {'s', 'e', 't'};
    private static final byte[] RESET = {'r', 'e', 's', 'e', 't'};

    /** {@code keyword} (lower-case ASCII) at {@code at}, case-insensitively, followed by whitespace. */
    private static boolean keywordAt(ByteBuf frame, int at, byte[] keyword) {
        for (int j = 0; j < keyword.length; j++) {
            if ((frame.getByte(at + j) | 0x20) != keyword[j]) {
                return false;
            }
        }
        return isSpace(frame.getByte(at + keyword.length));
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' || b == 0x0B; // what the patterns' \\s matches
    }

    /** Settings that are not plain GUCs or must not be carried from server to server. */
    private static final java.util.Set<String> NOT_CARRIED = java.util.Set.of("role", "session", "transaction",
            "constraints", "local", "session_authorization", "all");

    /**
     * A single session-level {@code SET name = value} / {@code SET name TO value} (not LOCAL, not ROLE,
     * TRANSACTION...): returns {name (canonical), value SQL text}; {name, null} for {@code RESET name};
     * null for anything else. The value is kept as the client wrote it, to be re-applied verbatim.
     */
    static String[] sessionSetting(String sql) {
        if (sql.length() > 500) {
            return null;
        }
        Matcher m = SESSION_SET.matcher(sql);
        if (m.matches()) {
            String name = StartupParameters.canonical(m.group(1));
            if (NOT_CARRIED.contains(name.toLowerCase(java.util.Locale.ROOT)) || m.group(2).equalsIgnoreCase("default")) {
                return null;
            }
            return new String[] {name, m.group(2).trim()};
        }
        Matcher r = SESSION_RESET.matcher(sql);
        if (r.matches()) {
            String name = StartupParameters.canonical(r.group(1));
            return NOT_CARRIED.contains(name.toLowerCase(java.util.Locale.ROOT)) ? null : new String[] {name, null};
        }
        return null;
    }

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
