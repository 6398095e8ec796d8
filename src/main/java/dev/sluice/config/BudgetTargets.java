package dev.sluice.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rule, also in README.md ("Database budget and bypass detection"):
 * <ul>
 * <li>Every [databases] entry whose effective max_db_connections is auto belongs to the server
 *     (host, port) it points at; each server gets one monitor.</li>
 * <li>Login: budget_user if set, with budget_password, else the plain-text password auth_file has for
 *     budget_user, else none (trust). Without budget_user: the user= and password= of the server's first
 *     auto entry (in file order) that has user=, the password falling back to auth_file as above. Neither:
 *     a config error, because a guard that cannot read the server guards nothing.</li>
 * <li>Database: that entry's dbname with the user= rule; with budget_user, the first auto entry's dbname
 *     (named entries before the * fallback, whose dbname defaults to postgres).</li>
 * </ul>
 * Unix-socket hosts are refused for auto: the monitor connects with pgjdbc, which speaks TCP only.
 */
// Works out which servers need a budget monitor and how it logs in; reports what cannot work, with file:line.
public final class BudgetTargets {

    /** The budget_* keys, for the "has no effect" warning. */
    private static final List<String> BUDGET_KEYS =
            List.of("budget_headroom", "budget_check_interval", "budget_user", "budget_password");
    private static final Pattern MD5_SECRET = Pattern.compile("md5[0-9a-f]{32}");
    private static final String FALLBACK_DBNAME = "postgres";

    /** A problem found while resolving; {@code database} or {@code setting} says where it belongs. */
    private record Issue(boolean error, String database, String setting, String message) {
    }

    private record Resolved(List<BudgetTarget> targets, List<Issue> issues) {
    }

    private BudgetTargets() {
    }

    /**
     * The servers to monitor for a loaded config, in the order their first auto database appears; empty
     * when no database uses max_db_connections = auto. A loaded config has passed {@link #check}, so
     * every auto database is covered.
     */
    public static List<BudgetTarget> of(SluiceConfig cfg) {
        return resolve(cfg.settings(), cfg.databases(), cfg.authFile()).targets();
    }

    /** Called by the loader after parsing; adds errors and warnings at the lines they concern. */
    static void check(Path ini, SettingsParser parsed, Settings s, Map<String, DatabaseConfig> databases,
            Map<String, IniEntry> dbEntries, Map<String, String> authFile, Problems problems) {
        if (parsed.isInvalid("max_db_connections")) {
            return; // the value that decides whether any of this applies is unknown
        }
        boolean anyAuto = databases.values().stream().anyMatch(db -> db.effectiveMaxDbConnectionsAuto(s));
        if (!anyAuto) {
            for (String key : BUDGET_KEYS) {
                IniEntry at = parsed.setAt().get(key);
                if (at != null) {
                    problems.warn(at, key + " has no effect: no database uses max_db_connections = auto; set "
                            + "max_db_connections = auto in [pgbouncer] or on a [databases] entry, or remove " + key);
                }
            }
        }
        Resolved r = resolve(s, databases, authFile);
        for (Issue issue : r.issues()) {
            IniEntry at = issue.setting() != null ? parsed.setAt().get(issue.setting()) : null;
            if (at == null && issue.database() != null) {
                at = dbEntries.get(issue.database());
            }
            if (at == null) {
                at = parsed.setAt().get("max_db_connections");
            }
            if (at == null) {
                if (issue.error()) {
                    problems.error(ini, 0, issue.message());
                } else {
                    problems.warn(ini, 0, issue.message());
                }
            } else if (issue.error()) {
                problems.error(at, issue.message());
            } else {
                problems.warn(at, issue.message());
            }
        }
    }

    private static Resolved resolve(Settings s, Map<String, DatabaseConfig> databases, Map<String, String> authFile) {
        List<Issue> issues = new ArrayList<>();
        Map<String, List<DatabaseConfig>> byServer = new LinkedHashMap<>();
        for (DatabaseConfig db : databases.values()) {
            if (!db.effectiveMaxDbConnectionsAuto(s)) {
                continue;
            }
            if (db.host().startsWith("/")) {
                issues.add(new Issue(true, db.name(), null, "[databases] " + db.name() + ": max_db_connections = auto"
                        + (db.maxDbConnections() == null ? " (from [pgbouncer])" : "") + " needs a TCP host, but host="
                        + db.host() + " is a Unix-socket directory; the budget monitor connects with pgjdbc, which "
                        + "speaks TCP only; use host=127.0.0.1 (or the server's address), or give this entry "
                        + "max_db_connections=<number>"));
                continue;
            }
            byServer.computeIfAbsent(db.host().toLowerCase(Locale.ROOT) + ":" + db.port(), k -> new ArrayList<>()).add(db);
        }

        if (s.budgetPassword() != null && s.budgetUser() == null) {
            issues.add(new Issue(true, null, "budget_password", "budget_password is set but budget_user is not; "
                    + "set budget_user to the login the password belongs to"));
        }
        List<BudgetTarget> targets = new ArrayList<>();
        for (List<DatabaseConfig> dbs : byServer.values()) {
            DatabaseConfig first = dbs.get(0);
            List<String> names = dbs.stream().map(DatabaseConfig::name).toList();
            String server = first.host() + ":" + first.port();
            String user;
            String password;
            String dbname;
            String from;
            String where;
            String setting;
            if (s.budgetUser() != null) {
                user = s.budgetUser();
                password = s.budgetPassword();
                DatabaseConfig named = dbs.stream().filter(d -> !d.isFallback()).findFirst().orElse(first);
                dbname = named.dbname() != null ? named.dbname() : FALLBACK_DBNAME;
                from = "budget_user";
                where = null;
                setting = "budget_user";
            } else {
                DatabaseConfig forced = dbs.stream().filter(DatabaseConfig::hasForcedUser).findFirst().orElse(null);
                if (forced == null) {
                    issues.add(new Issue(true, first.name(), null, "[databases] " + first.name()
                            + ": max_db_connections = auto" + (first.maxDbConnections() == null ? " (from [pgbouncer])" : "")
                            + " needs a login to read max_connections and pg_stat_activity on " + server
                            + ", and there is none: set budget_user (with budget_password, or its password in "
                            + "auth_file) in [pgbouncer], or user= and password= on this entry"));
                    continue;
                }
                user = forced.user();
                password = forced.password();
                dbname = forced.dbname() != null ? forced.dbname() : FALLBACK_DBNAME;
                from = "user= of [databases] " + forced.name();
                where = forced.name();
                setting = null;
            }
            if (password == null) {
                String secret = authFile.get(user);
                if (secret != null && !isHashed(secret)) {
                    password = secret;
                    from += " (password from auth_file)";
                } else if (secret != null) {
                    issues.add(new Issue(false, where, setting, "the budget monitor for " + server + " logs in as '"
                            + user + "' with pgjdbc, which needs the plain password, but auth_file holds only a "
                            + (secret.startsWith("SCRAM-SHA-256$") ? "SCRAM" : "md5") + " secret for it; set "
                            + (setting != null ? "budget_password" : "password= on [databases] " + where)
                            + ", or let this user in without a password (trust) from Sluice's address"));
                }
            }
            targets.add(new BudgetTarget(first.host(), first.port(), dbname, user, password, names, from));
        }
        return new Resolved(targets, issues);
    }

    /** md5 hashes and SCRAM secrets, as PostgreSQL's get_password_type() tells them from plain text. */
    private static boolean isHashed(String secret) {
        return MD5_SECRET.matcher(secret).matches() || secret.startsWith("SCRAM-SHA-256$");
    }
}
