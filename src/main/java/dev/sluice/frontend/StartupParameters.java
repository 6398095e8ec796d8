package dev.sluice.frontend;

import dev.sluice.protocol.ProtocolException;
import dev.sluice.protocol.SqlState;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns a client's StartupMessage parameters into the session settings Sluice must reproduce on every
 * server it leases to that client: canonical GUC names, {@code options} ({@code -c k=v}, {@code --k=v})
 * unpacked, ignore_startup_parameters dropped; and builds the SET/RESET text that applies them.
 */
public final class StartupParameters {
    private StartupParameters() {}

    /** Parameters PostgreSQL reports with ParameterStatus that every client has a value for (PgBouncer's varcache). */
    public static final Set<String> TRACKED = Set.of("client_encoding", "DateStyle", "TimeZone", "IntervalStyle",
            "standard_conforming_strings", "application_name");

    /** Startup keys that are not session settings. */
    private static final Set<String> NOT_SETTINGS = Set.of("user", "database", "options", "replication");

    private static final Map<String, String> CANONICAL = Map.of(
            "datestyle", "DateStyle", "timezone", "TimeZone", "intervalstyle", "IntervalStyle");

    /** PostgreSQL's GUC names are case-insensitive; the reported ones have a canonical spelling. */
    public static String canonical(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return CANONICAL.getOrDefault(lower, lower);
    }

    /**
     * The session settings requested at startup. Throws {@link ProtocolException} (SQLSTATE 0A000 or 42704
     * style) for what Sluice cannot honour, with a message naming the parameter.
     */
    public static Map<String, String> fromStartup(Map<String, String> startup, Collection<String> ignored) {
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> ignore = new java.util.HashSet<>();
        for (String i : ignored) {
            ignore.add(canonical(i));
        }
        // As in PostgreSQL, settings in "options" come first and explicit startup parameters override them.
        String options = startup.get("options");
        if (options != null && !options.isBlank() && !ignore.contains("options")) {
            parseOptions(options, out, ignore);
        }
        for (Map.Entry<String, String> e : startup.entrySet()) {
            String key = e.getKey();
            if (NOT_SETTINGS.contains(key) || key.startsWith("_pq_.")) {
                continue; // protocol options, answered by NegotiateProtocolVersion
            }
            String name = canonical(key);
            if (ignore.contains(name)) {
                continue;
            }
            requireName(name);
            out.put(name, e.getValue());
        }
        return out;
    }

    /** Parses libpq's options string: {@code -c name=value}, {@code -cname=value}, {@code --name=value}; backslash escapes spaces. */
    static void parseOptions(String options, Map<String, String> out, Set<String> ignore) {
        java.util.List<String> words = new java.util.ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                cur.append(options.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(cur.toString());
                    cur.setLength(0);
                    inWord = false;
                }
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(cur.toString());
        }
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String setting;
            if (w.equals("-c")) {
                if (i + 1 >= words.size()) {
                    throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "startup option -c needs name=value");
                }
                setting = words.get(++i);
            } else if (w.startsWith("-c")) {
                setting = w.substring(2);
            } else if (w.startsWith("--")) {
                setting = w.substring(2);
            } else {
                throw new ProtocolException(SqlState.FEATURE_NOT_SUPPORTED, "sluice: unsupported startup option \""
                        + w + "\": only -c name=value and --name=value are supported through a pooler");
            }
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid startup option \"" + setting
                        + "\": expected name=value");
            }
            String name = canonical(setting.substring(0, eq).replace('-', '_'));
            if (ignore.contains(name)) {
                continue;
            }
            requireName(name);
            out.put(name, setting.substring(eq + 1));
        }
    }

    private static void requireName(String name) {
        if (!isName(name)) {
            throw new ProtocolException(SqlState.PROTOCOL_VIOLATION, "invalid startup parameter name \"" + name + "\"");
        }
    }

    /**
     * {@code [A-Za-z_][A-Za-z0-9_.]*}: a GUC name, as SET and RESET may name it. A loop, not a regex: it runs
     * for every parameter of every login (a regex matcher per name was ~1 % of Sluice's CPU under pgbench -C).
     */
    static boolean isName(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
            if (!letter && (i == 0 || !((c >= '0' && c <= '9') || c == '.'))) {
                return false;
            }
        }
        return true;
    }

    /** A SQL string literal for {@code value} that is right whatever standard_conforming_strings is. */
    public static String literal(String value) {
        String q = value.replace("'", "''");
        if (q.indexOf('\\') >= 0) {
            return "E'" + q.replace("\\", "\\\\") + "'";
        }
        return "'" + q + "'";
    }

    /** Marks a value that is SQL text the client wrote (e.g. {@code "$user", public}), re-applied verbatim. */
    public static final String RAW = "\u0000sql:";

    public static String set(String name, String value) {
        if (value.startsWith(RAW)) {
            return "SET " + name + " TO " + value.substring(RAW.length()) + ";";
        }
        return "SET " + name + " TO " + literal(value) + ";";
    }

    public static String reset(String name) {
        return "RESET " + name + ";";
    }
}
