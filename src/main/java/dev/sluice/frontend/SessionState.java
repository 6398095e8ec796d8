package dev.sluice.frontend;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Recognises statements that leave session-level state on a server (settings, temp tables, session
 * advisory locks, LISTEN, SQL-level PREPARE, cursors). In transaction mode a server whose session was
 * changed this way is reset with DISCARD ALL before anyone else gets it, so no client ever sees another
 * client's session. Detection is by the server's CommandComplete tag where the tag says it, and by the
 * statement text for what tags hide (functions called from a SELECT, CREATE TEMP TABLE ... AS).
 */
final class SessionState {
    private SessionState() {}

    private static final String[] TAGS = {"SET", "RESET", "LISTEN", "PREPARE", "DECLARE CURSOR", "CREATE TABLE",
        "DISCARD TEMP", "SET CONSTRAINTS"};

    /** Lower-case markers searched case-insensitively in one pass over the statement text. */
    private static final byte[][] TEXT_MARKERS = {ascii("advisory_lock"), ascii("set_config"), ascii("temp")};

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** True for a CommandComplete whose command changes session state (SET, LISTEN, PREPARE, ...). */
    static boolean changesSession(ByteBuf commandComplete) {
        int start = commandComplete.readerIndex() + 5;
        int end = commandComplete.writerIndex() - 1; // the NUL
        int len = end - start;
        if (len < 3 || len > 16) {
            return false;
        }
        byte first = commandComplete.getByte(start);
        if (first != 'S' && first != 'R' && first != 'L' && first != 'P' && first != 'D' && first != 'C') {
            return false;
        }
        // Compared on the bytes: this runs for every CommandComplete of every client in transaction mode.
        for (byte[] t : TAG_BYTES) {
            if (t.length == len && first == t[0] && sameBytes(commandComplete, start, t)) {
                return true;
            }
        }
        return false;
    }

    private static final byte[][] TAG_BYTES = java.util.Arrays.stream(TAGS).map(SessionState::ascii).toArray(byte[][]::new);

    private static boolean sameBytes(ByteBuf buf, int at, byte[] expected) {
        for (int j = 1; j < expected.length; j++) {
            if (buf.getByte(at + j) != expected[j]) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when a Query/Parse text may create session state its tag will not show: session advisory locks
     * (pg_advisory_lock, not pg_advisory_xact_lock), set_config(), temporary tables. False positives only
     * cost a DISCARD ALL.
     */
    static boolean textMayChangeSession(ByteBuf frame) {
        // One pass, on the hot path of every Query and Parse: only 'a', 's' and 't' can start a marker.
        int end = frame.writerIndex();
        for (int i = frame.readerIndex() + 5; i < end; i++) {
            int c = frame.getByte(i) | 0x20;
            if (c != 'a' && c != 's' && c != 't') {
                continue;
            }
            for (byte[] m : TEXT_MARKERS) {
                if (m[0] == c && matchesAt(frame, i, m, end)) {
                    return m[0] != 't' || mentionsTempTable(frame);
                }
            }
        }
        return false;
    }

    private static boolean matchesAt(ByteBuf frame, int at, byte[] marker, int end) {
        if (at + marker.length > end) {
            return false;
        }
        for (int j = 1; j < marker.length; j++) {
            int c = frame.getByte(at + j);
            if (c != marker[j] && (c | 0x20) != marker[j]) {
                return false;
            }
        }
        return true;
    }

    private static boolean mentionsTempTable(ByteBuf frame) {
        String sql = frame.toString(frame.readerIndex() + 5, frame.readableBytes() - 5, StandardCharsets.UTF_8);
        return TEMP_DDL.matcher(sql).find();
    }

    private static final java.util.regex.Pattern TEMP_DDL = java.util.regex.Pattern.compile(
            "create\\s+(?:or\\s+replace\\s+)?(?:global\\s+|local\\s+)?temp(?:orary)?\\s",
            java.util.regex.Pattern.CASE_INSENSITIVE);
}
