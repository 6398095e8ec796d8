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

    // The patterns run on the statement without its surrounding blanks and final semicolon (see core()), so
    // none ends in a blank-or-semicolon tail that a lazy group could trade characters with: such tails made
    // matching cubic in the statement's length. Statements over MAX_LENGTH are never matched (they go to
    // PostgreSQL as usual). The quoted-string part of SESSION_SET is possessive (*+): with a plain * a run of
    // quotes could be split into strings and doubled quotes in exponentially many ways, and one SET that
    // failed to match held the event loop for hours (found by fuzzing). SQL reads two quotes inside a string
    // as one quote, as *+ does.
    private static final int MAX_LENGTH = 500;

    private static final Pattern SET_APPLICATION_NAME = Pattern.compile(
            "SET\\s+(?:SESSION\\s+)?application_name(?:\\s*=|\\s+TO)\\s*'((?:[^'\\\\]|'')*+)'",
            Pattern.CASE_INSENSITIVE);

    private static final Pattern SESSION_SET = Pattern.compile(
            "SET\\s+(?:SESSION\\s+)?([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)(?:\\s*=|\\s+TO)\\s*"
                    + "((?:'(?:[^']|'')*+'|\"[^\"]*\"|[^;'\"])+)", Pattern.CASE_INSENSITIVE);

    private static final Pattern SESSION_RESET = Pattern.compile(
            "RESET\\s+([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)?)", Pattern.CASE_INSENSITIVE);

    private static final Pattern RESET_ALL = Pattern.compile("(?:RESET|DISCARD)\\s+ALL", Pattern.CASE_INSENSITIVE);

    /** SET SESSION CHARACTERISTICS AS TRANSACTION modes: the same as setting the default_transaction_* GUCs. */
    private static final Pattern SESSION_CHARACTERISTICS = Pattern.compile(
            "SET\\s+SESSION\\s+CHARACTERISTICS\\s+AS\\s+TRANSACTION\\s+(.+)", Pattern.CASE_INSENSITIVE);
    private static final Pattern TRANSACTION_MODE = Pattern.compile(
            "\\s*(?:(READ\\s+ONLY)|(READ\\s+WRITE)|ISOLATION\\s+LEVEL\\s+(SERIALIZABLE|REPEATABLE\\s+READ|READ\\s+COMMITTED"
                    + "|READ\\s+UNCOMMITTED)|(NOT\\s+DEFERRABLE)|(DEFERRABLE))\\s*(?:,|$)", Pattern.CASE_INSENSITIVE);

    /**
     * The statement without the blanks around it and one final semicolon (with the blanks before it), or null
     * when it is longer than any statement worth recognising.
     */
    private static String core(String sql) {
        if (sql.length() > MAX_LENGTH) {
            return null;
        }
        int start = 0;
        int end = sql.length();
        while (start < end && isSpace(sql.charAt(start))) {
            start++;
        }
        while (end > start && isSpace(sql.charAt(end - 1))) {
            end--;
        }
        if (end > start && sql.charAt(end - 1) == ';') {
            end--;
            while (end > start && isSpace(sql.charAt(end - 1))) {
                end--;
            }
        }
        return sql.substring(start, end);
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == 0x0B; // what the patterns' \s matches
    }

    /** The name {@link #sessionSetting} gives RESET ALL and DISCARD ALL: every setting goes back to its default. */
    static final String ALL = "*";

    /**
     * Whether the SQL text at {@code from} (after leading whitespace) starts with the keyword SET or RESET
     * (any case) followed by whitespace. Checked on the raw bytes of every Query/Parse before anything is
     * decoded, so the regular expressions below only ever run for statements that can match them.
     */
    static boolean startsWithSetOrReset(ByteBuf frame, int from) {
        int i = skipSpace(frame, from);
        return keywordAt(frame, i, SET) || keywordAt(frame, i, RESET);
    }

    /** DISCARD: {@code DISCARD ALL} is carried as RESET ALL is ({@link #ALL}). */
    static boolean startsWithDiscard(ByteBuf frame, int from) {
        return keywordAt(frame, skipSpace(frame, from), DISCARD);
    }

    /** Only SET (not RESET): what {@link #applicationNameSet} can match. */
    static boolean startsWithSet(ByteBuf frame, int from) {
        return keywordAt(frame, skipSpace(frame, from), SET);
    }

    /** Index of the first non-whitespace byte at or after {@code from} (the frame's end if none). */
    private static int skipSpace(ByteBuf frame, int from) {
        int end = frame.writerIndex();
        int i = from;
        while (i < end && isSpace(frame.getByte(i))) {
            i++;
        }
        return i;
    }

    private static final byte[] SET = {'s', 'e', 't'};
    private static final byte[] RESET = {'r', 'e', 's', 'e', 't'};
    private static final byte[] DISCARD = {'d', 'i', 's', 'c', 'a', 'r', 'd'};

    /** {@code keyword} (lower-case ASCII) at {@code at}, case-insensitively, followed by whitespace. */
    private static boolean keywordAt(ByteBuf frame, int at, byte[] keyword) {
        if (at + keyword.length + 1 > frame.writerIndex()) {
            return false; // no room for the keyword and the whitespace after it
        }
        for (int j = 0; j < keyword.length; j++) {
            if ((frame.getByte(at + j) | 0x20) != keyword[j]) {
                return false;
            }
        }
        return isSpace(frame.getByte(at + keyword.length));
    }

    private static boolean isSpace(byte b) {
        return isSpace((char) (b & 0xff));
    }

    /** Settings that are not plain GUCs or must not be carried from server to server. */
    private static final java.util.Set<String> NOT_CARRIED = java.util.Set.of("role", "session", "transaction",
            "constraints", "local", "session_authorization", "all");

    /**
     * A single session-level {@code SET name = value} / {@code SET name TO value} (not LOCAL, not ROLE,
     * TRANSACTION...): returns {name (canonical), value SQL text}; {name, null} for {@code RESET name} and
     * {@code SET name TO DEFAULT}; {@link #ALL}, null for RESET ALL and DISCARD ALL; null for anything else.
     * The value is kept as the client wrote it, to be re-applied verbatim. {@code SET SESSION CHARACTERISTICS
     * AS TRANSACTION ...} gives one pair per mode ({name, value, name, value, ...}) of the default_transaction_*
     * settings it stands for.
     */
    static String[] sessionSetting(String statement) {
        String sql = core(statement);
        if (sql == null) {
            return null;
        }
        if (RESET_ALL.matcher(sql).matches()) {
            return new String[] {ALL, null};
        }
        Matcher sc = SESSION_CHARACTERISTICS.matcher(sql);
        if (sc.matches()) {
            return transactionModes(sc.group(1));
        }
        Matcher m = SESSION_SET.matcher(sql);
        if (m.matches()) {
            String name = StartupParameters.canonical(m.group(1));
            if (NOT_CARRIED.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                return null;
            }
            // SET name TO DEFAULT is RESET name.
            return new String[] {name, m.group(2).trim().equalsIgnoreCase("default") ? null : m.group(2).trim()};
        }
        Matcher r = SESSION_RESET.matcher(sql);
        if (r.matches()) {
            String name = StartupParameters.canonical(r.group(1));
            return NOT_CARRIED.contains(name.toLowerCase(java.util.Locale.ROOT)) ? null : new String[] {name, null};
        }
        return null;
    }

    private static String[] transactionModes(String modes) {
        java.util.List<String> out = new java.util.ArrayList<>();
        Matcher m = TRANSACTION_MODE.matcher(modes);
        int at = 0;
        while (at < modes.length()) {
            if (!m.find(at) || m.start() != at) {
                return null; // not a list of modes Sluice understands: PostgreSQL judges it, and it is not carried
            }
            if (m.group(1) != null || m.group(2) != null) {
                out.add("default_transaction_read_only");
                out.add(m.group(1) != null ? "on" : "off");
            } else if (m.group(3) != null) {
                out.add("default_transaction_isolation");
                out.add("'" + m.group(3).replaceAll("\\s+", " ").toLowerCase(java.util.Locale.ROOT) + "'");
            } else {
                out.add("default_transaction_deferrable");
                out.add(m.group(5) != null ? "on" : "off");
            }
            at = m.end();
        }
        return out.isEmpty() ? null : out.toArray(new String[0]);
    }

    /** The value of a plain {@code SET application_name = '...'}, or null when {@code sql} is anything else. */
    static String applicationNameSet(String statement) {
        String sql = core(statement);
        Matcher m = sql == null ? null : SET_APPLICATION_NAME.matcher(sql);
        if (m == null || !m.matches()) {
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
