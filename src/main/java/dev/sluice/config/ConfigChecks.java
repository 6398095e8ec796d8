package dev.sluice.config;

import java.nio.file.Path;
import java.util.Map;

// Checks that need several settings at once (auth_type vs auth_file, min vs pool size), after parsing.
final class ConfigChecks {

    private ConfigChecks() {
    }

    /**
     * @param dbEntries       the [databases] line behind each parsed database, for locating problems
     * @param settingsHeader  first [pgbouncer]/[sluice] header, or null; where to report missing settings
     */
    static void check(Path ini, SettingsParser parsed, Settings s, Map<String, DatabaseConfig> databases,
            Map<String, IniEntry> dbEntries, IniSection settingsHeader, Problems problems) {
        checkAuth(ini, parsed, s, settingsHeader, problems);
        checkPoolSizes(parsed, s, databases, dbEntries, problems);
        if (s.authType() == AuthType.ANY) {
            for (DatabaseConfig db : databases.values()) {
                if (!db.hasForcedUser()) {
                    problems.warn(dbEntries.get(db.name()), "[databases] " + db.name() + ": auth_type = any ignores "
                            + "the user name clients give, so every database should set user= (PgBouncer requires "
                            + "it); add user=... to this entry");
                }
            }
        }
        if (databases.isEmpty()) {
            problems.warn(ini, 0, "no databases are defined in [databases] and there is no * fallback entry: "
                    + "every client connection will be refused; add e.g. mydb = host=127.0.0.1 dbname=mydb");
        }
    }

    private static void checkAuth(Path ini, SettingsParser parsed, Settings s, IniSection header,
            Problems problems) {
        if (parsed.isInvalid("auth_type") || parsed.isInvalid("auth_file")
                || !s.authType().needsAuthFile() || s.authFile() != null) {
            return;
        }
        String fix = " needs auth_file, the list of users and passwords clients are checked against; "
                + "set auth_file = userlist.txt with lines like \"alice\" \"secret\" "
                + "(auth_user/auth_query are not supported by Sluice yet)";
        IniEntry authTypeLine = parsed.setAt().get("auth_type");
        if (authTypeLine != null) {
            problems.error(authTypeLine, "auth_type = " + s.authType().configWord() + fix);
        } else if (header != null) {
            problems.error(header.file(), header.line(), "auth_type defaults to md5, which" + fix
                    + "; or set auth_type = trust for local testing");
        } else {
            problems.error(ini, 0, "auth_type defaults to md5, which" + fix
                    + "; add a [pgbouncer] section with auth_file, or auth_type = trust for local testing");
        }
    }

    private static void checkPoolSizes(SettingsParser parsed, Settings s, Map<String, DatabaseConfig> databases,
            Map<String, IniEntry> dbEntries, Problems problems) {
        boolean globalsValid = !parsed.isInvalid("min_pool_size") && !parsed.isInvalid("default_pool_size");
        if (globalsValid && s.minPoolSize() > s.defaultPoolSize()) {
            IniEntry at = parsed.setAt().get("min_pool_size");
            problems.error(at, "min_pool_size = " + s.minPoolSize() + " is larger than default_pool_size = "
                    + s.defaultPoolSize() + ": a pool cannot keep more connections open than it may have; "
                    + "lower min_pool_size or raise default_pool_size");
        }
        for (DatabaseConfig db : databases.values()) {
            // Databases that override neither value are covered by the global check above.
            if (db.minPoolSize() == null && db.poolSize() == null) {
                continue;
            }
            int min = db.effectiveMinPoolSize(s);
            int size = db.effectivePoolSize(s);
            if (min > size && globalsValid) {
                String minFrom = db.minPoolSize() != null ? "min_pool_size=" + min : "min_pool_size = " + min + " (global)";
                String sizeFrom = db.poolSize() != null ? "pool_size=" + size : "default_pool_size = " + size + " (global)";
                problems.error(dbEntries.get(db.name()), "[databases] " + db.name() + ": " + minFrom
                        + " is larger than the pool size, " + sizeFrom + "; lower min_pool_size or raise pool_size");
            }
        }
    }
}
