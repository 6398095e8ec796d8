package dev.sluice.config;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Implemented keys become DatabaseConfig fields; keys PgBouncer knows but Sluice does not implement yet
 * are warned about (unless set to a value that changes nothing); any other key is an error. All problems
 * of one entry are reported, and an entry with an error yields no DatabaseConfig.
 */
// Turns one [databases] line ("name = host=... port=... pool_size=...") into a DatabaseConfig.
final class DatabaseParser {

    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 5432;

    /** PgBouncer's database keys that Sluice ignores, with the values that are harmless to ignore. */
    private static final Map<String, Set<String>> UNIMPLEMENTED = Map.of(
            "auth_user", Set.of(""),
            "auth_query", Set.of(""),
            "auth_dbname", Set.of(""),
            "connect_query", Set.of(""),
            "load_balance_hosts", Set.of("round-robin"),
            "target_session_attrs", Set.of("any"),
            "max_db_client_connections", Set.of("0"),
            "server_lifetime", Set.of(),
            "query_wait_timeout", Set.of("-1"));

    /** Startup parameters a database entry may set, and the spelling PostgreSQL reports them in. */
    private static final Map<String, String> STARTUP_PARAMETERS = Map.of(
            "client_encoding", "client_encoding",
            "datestyle", "DateStyle",
            "timezone", "TimeZone",
            "application_name", "application_name");

    private static final List<String> KNOWN_KEYS = List.of("host", "port", "dbname", "user", "password",
            "pool_size", "min_pool_size", "reserve_pool_size", "pool_mode", "max_db_connections", "client_encoding",
            "datestyle", "timezone", "application_name");

    private DatabaseParser() {
    }

    static Optional<DatabaseConfig> parse(IniEntry e, Problems problems) {
        String name = e.key();
        String where = "[databases] " + name;
        int errorsBefore = problems.errorCount();
        if (name.equalsIgnoreCase("pgbouncer")) {
            problems.error(e, where + ": the name pgbouncer is reserved for the admin console; "
                    + "rename this database (clients then connect to the new name)");
        }
        List<ConnString.Param> params;
        try {
            params = ConnString.parse(Values.unquote(e.value()));
        } catch (IllegalArgumentException ex) {
            problems.error(e, where + ": " + ex.getMessage());
            return Optional.empty();
        }
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        String dbname = null;
        String user = null;
        String password = null;
        Integer poolSize = null;
        Integer minPoolSize = null;
        Integer reservePoolSize = null;
        PoolMode poolMode = null;
        Integer maxDbConnections = null;
        boolean maxDbConnectionsAuto = false;
        Map<String, String> startup = new LinkedHashMap<>();
        Map<String, String> seen = new HashMap<>();
        for (ConnString.Param p : params) {
            // reserve_pool is PgBouncer's older spelling of reserve_pool_size.
            String key = p.key().equals("reserve_pool") ? "reserve_pool_size" : p.key();
            String v = p.value();
            if (seen.put(key, v) != null) {
                problems.warn(e, where + ": " + key + " is given twice; the later value " + Values.quoted(v) + " wins");
            }
            try {
                switch (key) {
                    case "host" -> host = host(v, e, where, problems);
                    case "port" -> port = Values.intInRange(v, 1, 65535);
                    case "dbname" -> dbname = v.isEmpty() ? null : v;
                    case "user" -> user = v.isEmpty() ? null : v;
                    case "password" -> password = v.isEmpty() ? null : v;
                    case "pool_size" -> poolSize = atLeastOne(v);
                    case "min_pool_size" -> minPoolSize = Values.nonNegativeInt(v);
                    case "reserve_pool_size" -> reservePoolSize = Values.nonNegativeInt(v);
                    case "pool_mode" -> poolMode = SettingsParser.parsePoolMode(v);
                    case "max_db_connections" -> {
                        maxDbConnectionsAuto = SettingsParser.isAuto(v);
                        maxDbConnections = maxDbConnectionsAuto ? 0 : SettingsParser.maxDbConnections(v);
                    }
                    case "client_encoding", "datestyle", "timezone", "application_name" ->
                            startup.put(STARTUP_PARAMETERS.get(key), v);
                    default -> {
                        if (UNIMPLEMENTED.containsKey(key)) {
                            if (!UNIMPLEMENTED.get(key).contains(v.strip().toLowerCase(Locale.ROOT))) {
                                problems.warn(e, where + ": " + key + " is not implemented by Sluice yet; ignored");
                            }
                        } else {
                            problems.error(e, where + ": unknown key '" + p.key() + "' in the connection string; "
                                    + "known keys are " + String.join(", ", KNOWN_KEYS));
                        }
                    }
                }
            } catch (IllegalArgumentException ex) {
                problems.error(e, where + ": " + key + ": " + ex.getMessage());
            }
        }
        if (problems.errorCount() > errorsBefore) {
            return Optional.empty();
        }
        if (dbname == null && !name.equals(DatabaseConfig.FALLBACK)) {
            dbname = name;
        }
        return Optional.of(new DatabaseConfig(name, host, port, dbname, user, password, poolSize, minPoolSize,
                reservePoolSize, poolMode, maxDbConnections, maxDbConnectionsAuto, startup, e.source()));
    }

    private static String host(String v, IniEntry e, String where, Problems problems) {
        if (v.isEmpty()) {
            return DEFAULT_HOST;
        }
        if (v.contains(",")) {
            String first = v.substring(0, v.indexOf(',')).strip();
            problems.warn(e, where + ": host lists are not supported by Sluice yet; only the first host, "
                    + first + ", is used");
            return first.isEmpty() ? DEFAULT_HOST : first;
        }
        return v;
    }

    private static int atLeastOne(String v) {
        int n = Values.nonNegativeInt(v);
        if (n < 1) {
            throw new IllegalArgumentException("0 is too small: a pool of 0 could never serve a client; use 1 or more");
        }
        return n;
    }
}
