package dev.sluice.admin;

import dev.sluice.protocol.SqlState;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One admin console statement, parsed from the text of a simple Query: PgBouncer's grammar, case-insensitive,
 * with an optional trailing semicolon. Database names may be double-quoted; SET values may be single-quoted.
 */
public sealed interface AdminCommand {

    /** SHOW x, with x upper-cased (POOLS, CLIENTS, ...); unknown names are rejected when executed. */
    record Show(String what) implements AdminCommand {}

    /** SET key = value (or SET key TO value); the key lower-cased, the value unquoted. */
    record SetSetting(String key, String value) implements AdminCommand {}

    /** PAUSE [db]; database null means every database. */
    record Pause(String database) implements AdminCommand {}

    record Resume(String database) implements AdminCommand {}

    record Disable(String database) implements AdminCommand {}

    record Enable(String database) implements AdminCommand {}

    record Reconnect(String database) implements AdminCommand {}

    record Kill(String database) implements AdminCommand {}

    /** KILL_CLIENT id: the id column of SHOW CLIENTS (its ptr "C-id" is accepted too). */
    record KillClient(long id) implements AdminCommand {}

    record WaitClose(String database) implements AdminCommand {}

    record Reload() implements AdminCommand {}

    /** SHUTDOWN (or SHUTDOWN WAIT_FOR_SERVERS): the same graceful shutdown as SIGTERM. */
    record Shutdown() implements AdminCommand {}

    /** Only SHOW is allowed to stats_users. */
    default boolean readOnly() {
        return this instanceof Show;
    }

    /**
     * Parses one statement. Returns null for an empty query (only blanks and semicolons).
     *
     * @throws AdminException (42601) for anything that is not a console command
     */
    static AdminCommand parse(String sql) throws AdminException {
        String text = sql.strip();
        while (text.endsWith(";")) {
            text = text.substring(0, text.length() - 1).stripTrailing();
        }
        if (text.isEmpty()) {
            return null;
        }
        List<String> words = split(text);
        String verb = words.get(0).toUpperCase(Locale.ROOT);
        List<String> args = words.subList(1, words.size());
        return switch (verb) {
            case "SHOW" -> {
                expect(text, args, 1, 1);
                yield new Show(args.get(0).toUpperCase(Locale.ROOT));
            }
            case "SET" -> parseSet(text);
            case "PAUSE" -> new Pause(optionalDatabase(text, args));
            case "RESUME" -> new Resume(optionalDatabase(text, args));
            case "RECONNECT" -> new Reconnect(optionalDatabase(text, args));
            case "KILL" -> new Kill(optionalDatabase(text, args));
            case "WAIT_CLOSE" -> new WaitClose(optionalDatabase(text, args));
            case "DISABLE" -> new Disable(requiredDatabase(text, args));
            case "ENABLE" -> new Enable(requiredDatabase(text, args));
            case "KILL_CLIENT" -> {
                expect(text, args, 1, 1);
                yield new KillClient(clientId(args.get(0)));
            }
            case "RELOAD" -> {
                expect(text, args, 0, 0);
                yield new Reload();
            }
            case "SHUTDOWN" -> {
                expect(text, args, 0, 1);
                if (!args.isEmpty() && !args.get(0).equalsIgnoreCase("WAIT_FOR_SERVERS")) {
                    throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED, "sluice: SHUTDOWN " + args.get(0)
                            + " is not supported; SHUTDOWN (or SHUTDOWN WAIT_FOR_SERVERS) lets running transactions "
                            + "finish, up to shutdown_wait_timeout, then exits");
                }
                yield new Shutdown();
            }
            case "SUSPEND" -> throw new AdminException(SqlState.FEATURE_NOT_SUPPORTED,
                    "sluice: SUSPEND (online restart) is not supported; use PAUSE, or SHUTDOWN and start again");
            default -> throw invalid(text);
        };
    }

    private static AdminCommand parseSet(String text) throws AdminException {
        // SET key = value | SET key TO value; the value is the rest of the line (a quoted string or one word).
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(?is)SET\\s+([A-Za-z_][A-Za-z0-9_.]*)\\s*(?:=|\\s+TO\\s+)\\s*(.*)")
                .matcher(text);
        if (!m.matches()) {
            throw new AdminException(SqlState.SYNTAX_ERROR, "sluice: syntax error in '" + text
                    + "'; write SET key = value (e.g. SET default_pool_size = 30)");
        }
        String raw = m.group(2).strip();
        String value;
        if (raw.startsWith("'")) {
            if (raw.length() < 2 || !raw.endsWith("'")) {
                throw new AdminException(SqlState.SYNTAX_ERROR, "sluice: unterminated quoted value in '" + text + "'");
            }
            value = raw.substring(1, raw.length() - 1).replace("''", "'");
        } else {
            value = raw;
        }
        return new SetSetting(m.group(1).toLowerCase(Locale.ROOT), value);
    }

    private static String optionalDatabase(String text, List<String> args) throws AdminException {
        expect(text, args, 0, 1);
        return args.isEmpty() ? null : unquoteIdentifier(args.get(0));
    }

    private static String requiredDatabase(String text, List<String> args) throws AdminException {
        if (args.isEmpty()) {
            throw new AdminException(SqlState.SYNTAX_ERROR, "sluice: a database is required: '" + text + " <db>'");
        }
        expect(text, args, 1, 1);
        return unquoteIdentifier(args.get(0));
    }

    private static long clientId(String arg) throws AdminException {
        String digits = arg.regionMatches(true, 0, "C-", 0, 2) ? arg.substring(2) : arg;
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new AdminException(SqlState.SYNTAX_ERROR, "sluice: KILL_CLIENT takes the id column of SHOW CLIENTS, "
                    + "a number; got '" + arg + "'");
        }
    }

    private static void expect(String text, List<String> args, int min, int max) throws AdminException {
        if (args.size() < min || args.size() > max) {
            throw invalid(text);
        }
    }

    private static AdminException invalid(String text) {
        return new AdminException(SqlState.SYNTAX_ERROR, "invalid command '" + text + "', use SHOW HELP;");
    }

    /** Splits a console statement into words, keeping a double-quoted name (with "" inside) as one word. */
    private static List<String> split(String text) throws AdminException {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            int start = i;
            if (c == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new AdminException(SqlState.SYNTAX_ERROR, "sluice: unterminated quoted name in '"
                                + text + "'");
                    }
                    if (text.charAt(i) == '"') {
                        if (i + 1 < n && text.charAt(i + 1) == '"') {
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    i++;
                }
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    i++;
                }
            }
            out.add(text.substring(start, i));
        }
        return out;
    }

    private static String unquoteIdentifier(String word) {
        if (word.length() >= 2 && word.startsWith("\"") && word.endsWith("\"")) {
            return word.substring(1, word.length() - 1).replace("\"\"", "\"");
        }
        return word;
    }
}
