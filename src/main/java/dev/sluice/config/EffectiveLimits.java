package dev.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The numbers follow the pooling rules Sluice shares with PgBouncer: a pool per (database, user) pair
 * limited by pool_size (+ reserve once reserve_pool_timeout has passed), a database's pools together
 * limited by max_db_connections, a user's pools together by max_user_connections. The users that can
 * have pools are taken from auth_file; without one (or with auth_type = any) they are unknown.
 */
// Explains in plain words what bounds server connections per pool, per database and in total.
public final class EffectiveLimits {

    private static final long UNBOUNDED = Long.MAX_VALUE;
    private static final int MAX_NAMES_LISTED = 10;

    private EffectiveLimits() {
    }

    /** The per-database upper bound and how it was reached, for the totals. */
    private record DbBound(String name, long bound, String why) {
    }

    public static String describe(SluiceConfig cfg) {
        Settings s = cfg.settings();
        Set<String> authUsers = authUsers(cfg);
        StringBuilder out = new StringBuilder();
        out.append("Effective connection limits for ").append(cfg.source()).append("\n\n");
        int pool = s.defaultPoolSize();
        String example = authUsers != null && authUsers.size() > 1
                ? "the " + authUsers.size() + " users in auth_file with default_pool_size=" + pool + " can open up to "
                        + (long) authUsers.size() * pool + " server connections to each database"
                : "3 users with pool_size 20 on one database can open 60 server connections";
        out.append("Server connections are pooled per (database, user) pair, as in PgBouncer: pool_size limits ")
           .append("each pool, not the database, so ").append(example).append(". A database with user= in its ")
           .append("connection string logs every client in as that user, so it has a single pool.\n");
        if (authUsers == null) {
            out.append(s.authType() == AuthType.ANY
                    ? "auth_type = any: client user names are ignored, so only databases with user= have known pools.\n"
                    : "No auth_file users are known, so the number of users (and of pools) is not bounded.\n");
        } else {
            out.append("auth_file lists ").append(count(authUsers.size(), "user")).append(": ")
               .append(names(authUsers)).append(".\n");
        }

        out.append("\nPer database:\n");
        List<DbBound> bounds = new ArrayList<>();
        for (DatabaseConfig db : cfg.databases().values()) {
            bounds.add(describeDatabase(out, db, s, authUsers));
        }
        if (cfg.databases().isEmpty()) {
            out.append("  (none defined: no client can connect)\n");
        }

        Set<String> poolUsers = describeUsers(out, cfg, authUsers);
        describeTotal(out, cfg, bounds, poolUsers);
        describeBudget(out, cfg);
        describeClients(out, cfg);
        return out.toString();
    }

    private static DbBound describeDatabase(StringBuilder out, DatabaseConfig db, Settings s, Set<String> authUsers) {
        int pool = db.effectivePoolSize(s);
        int reserve = db.effectiveReservePoolSize(s);
        boolean reserveUsed = reserve > 0 && !s.reservePoolTimeout().isZero();
        int perPool = pool + (reserveUsed ? reserve : 0);
        int maxDb = db.effectiveMaxDbConnections(s);
        String label = db.isFallback() ? "* (any other database name)" : db.name();
        String poolFrom = db.poolSize() != null
                ? "pool_size=" + pool + " from [databases] " + db.name() + "; default_pool_size=" + s.defaultPoolSize()
                : "default_pool_size=" + pool;

        StringBuilder line = new StringBuilder("  ").append(label).append(": ");
        if (db.hasForcedUser()) {
            line.append("one pool of up to ").append(pool).append(" server connections, because every client is ")
                .append("logged in as user '").append(db.user()).append("' (").append(poolFrom).append(")");
        } else {
            line.append("up to ").append(pool).append(" server connections per user")
                .append(db.isFallback() ? " for each database name clients ask for" : "")
                .append(" (").append(poolFrom).append(")");
        }
        if (reserveUsed) {
            line.append(", +").append(reserve).append(" reserve after ").append(Values.human(s.reservePoolTimeout()))
                .append(" wait");
        } else if (reserve > 0) {
            line.append("; reserve_pool_size=").append(reserve).append(" is unused because reserve_pool_timeout=0");
        }
        boolean auto = db.effectiveMaxDbConnectionsAuto(s);
        if (auto) {
            line.append("; capped by the database budget read from the server (max_db_connections = auto")
                .append(db.maxDbConnections() != null ? " from [databases] " + db.name() : "").append(")");
        }
        if (maxDb > 0) {
            line.append("; capped at ").append(maxDb)
                .append(db.isFallback() ? " for each database name" : " for the whole database")
                .append(" by max_db_connections")
                .append(db.maxDbConnections() != null ? " from [databases] " + db.name() : "");
        }
        line.append(". pool_mode=").append(db.effectivePoolMode(s).configWord());
        int min = db.effectiveMinPoolSize(s);
        if (min > 0) {
            line.append(", keeps ").append(min).append(" open per pool")
                .append(db.hasForcedUser() ? "" : " while it has clients").append(" (min_pool_size)");
        }
        out.append(line).append(".\n");

        long bound;
        String why;
        String perPoolText = reserveUsed ? pool + "+" + reserve : String.valueOf(pool);
        if (db.hasForcedUser()) {
            bound = maxDb > 0 ? Math.min(perPool, maxDb) : perPool;
            why = maxDb > 0 && maxDb < perPool ? "one pool of " + perPoolText + ", capped at " + maxDb
                    : "one pool of " + perPoolText;
        } else if (authUsers != null) {
            long raw = (long) authUsers.size() * perPool;
            bound = maxDb > 0 ? Math.min(raw, maxDb) : raw;
            why = count(authUsers.size(), "user") + " in auth_file x " + perPoolText + " = " + raw
                    + (maxDb > 0 && maxDb < raw ? ", capped at " + maxDb : "");
        } else {
            bound = maxDb > 0 ? maxDb : UNBOUNDED;
            why = maxDb > 0 ? "users are not known, so only max_db_connections bounds it"
                    : auto ? "users are not known; the database budget (auto) bounds it while Sluice runs"
                    : "users are not known and max_db_connections=0";
        }
        out.append("    -> at most ").append(bound == UNBOUNDED ? "an unbounded number of" : String.valueOf(bound))
           .append(" server connections").append(db.isFallback() ? " per database name" : "")
           .append(" (").append(why).append(")");
        if (db.isFallback()) {
            out.append("; the number of database names is not limited");
        }
        out.append(".\n");
        return new DbBound(db.name(), db.isFallback() ? UNBOUNDED : bound, why);
    }

    /** Prints per-user caps; returns the users that can own pools, or null when they are not known. */
    private static Set<String> describeUsers(StringBuilder out, SluiceConfig cfg, Set<String> authUsers) {
        Settings s = cfg.settings();
        out.append("\nPer user:\n");
        if (s.maxUserConnections() > 0) {
            out.append("  max_user_connections=").append(s.maxUserConnections())
               .append(": each user can hold at most ").append(s.maxUserConnections())
               .append(" server connections across all databases.\n");
        } else {
            out.append("  max_user_connections=0: a user's pools on different databases are not capped together.\n");
        }
        for (UserConfig u : cfg.users().values()) {
            List<String> parts = new ArrayList<>();
            if (u.maxUserConnections() != null) {
                parts.add(u.maxUserConnections() > 0
                        ? "at most " + u.maxUserConnections() + " server connections across all databases "
                                + "(max_user_connections from [users])"
                        : "no cap across databases (max_user_connections=0 from [users])");
            }
            if (u.poolMode() != null) {
                parts.add("pool_mode=" + u.poolMode().configWord() + " for all of " + u.name() + "'s pools");
            }
            if (!parts.isEmpty()) {
                out.append("  ").append(u.name()).append(": ").append(String.join("; ", parts)).append(".\n");
            }
        }
        // A pool belongs to its forced user if the database has one, else to the client's user.
        boolean anyUnforced = cfg.databases().values().stream().anyMatch(db -> !db.hasForcedUser());
        if (anyUnforced && authUsers == null) {
            return null;
        }
        Set<String> poolUsers = new LinkedHashSet<>();
        if (anyUnforced) {
            poolUsers.addAll(authUsers);
        }
        cfg.databases().values().stream().filter(DatabaseConfig::hasForcedUser).forEach(db -> poolUsers.add(db.user()));
        return poolUsers;
    }

    private static void describeTotal(StringBuilder out, SluiceConfig cfg, List<DbBound> bounds, Set<String> poolUsers) {
        long byDb = 0;
        for (DbBound b : bounds) {
            byDb = b.bound == UNBOUNDED || byDb == UNBOUNDED ? UNBOUNDED : byDb + b.bound;
        }
        long byUser = poolUsers == null ? UNBOUNDED : 0;
        List<String> userTerms = new ArrayList<>();
        if (poolUsers != null) {
            for (String u : poolUsers) {
                int cap = cfg.maxUserConnections(u);
                byUser = cap == 0 || byUser == UNBOUNDED ? UNBOUNDED : byUser + cap;
                userTerms.add(u + " " + cap);
            }
        }
        long total = Math.min(byDb, byUser);
        out.append("\nTotal:\n  ");
        if (total != UNBOUNDED) {
            out.append("Total server connections can reach ").append(total).append(" (= ");
            if (byDb <= byUser) {
                List<String> terms = new ArrayList<>();
                bounds.forEach(b -> terms.add(b.name + " " + b.bound));
                out.append(terms.isEmpty() ? "no databases" : "sum of per-database limits: " + String.join(" + ", terms));
            } else {
                out.append("sum of per-user caps: ").append(String.join(" + ", userTerms))
                   .append("; the per-database limits alone would allow ")
                   .append(byDb == UNBOUNDED ? "any number" : String.valueOf(byDb));
            }
            out.append(").\n  PostgreSQL's max_connections must be above ").append(total)
               .append(" plus any connections that do not go through Sluice, ")
               .append("or server logins will fail with \"sorry, too many clients already\".\n");
            return;
        }
        List<String> reasons = new ArrayList<>();
        if (cfg.databases().containsKey(DatabaseConfig.FALLBACK)) {
            reasons.add("the * fallback entry opens new pools for every database name a client asks for");
        }
        for (DbBound b : bounds) {
            if (b.bound == UNBOUNDED && !b.name.equals(DatabaseConfig.FALLBACK)) {
                reasons.add(b.name + ": " + b.why);
            }
        }
        reasons.add(poolUsers == null ? "max_user_connections cannot help while the users are not known"
                : "max_user_connections=0 leaves some users uncapped");
        out.append("unbounded: total server connections have no limit in this configuration: ")
           .append(String.join("; ", reasons)).append(".\n")
           .append("  PostgreSQL's max_connections is then the real limit. To bound it here, list users in auth_file ")
           .append("and set max_user_connections, or set max_db_connections and replace * with named databases.\n");
    }

    /** The servers read by max_db_connections = auto, and what their budget will be made of. */
    private static void describeBudget(StringBuilder out, SluiceConfig cfg) {
        List<BudgetTarget> targets = BudgetTargets.of(cfg);
        if (targets.isEmpty()) {
            return;
        }
        Settings s = cfg.settings();
        out.append("\nDatabase budget (max_db_connections = auto):\n");
        for (BudgetTarget t : targets) {
            out.append("  ").append(t.server()).append(" (").append(String.join(", ", t.databases()))
               .append("): Sluice keeps its server connections to this server within max_connections - ")
               .append("superuser_reserved_connections - reserved_connections - connections that bypass Sluice - ")
               .append("headroom ").append(s.budgetHeadroom()).append(", read every ")
               .append(Values.human(s.budgetCheckInterval())).append(" as user '").append(t.user())
               .append("' on database ").append(t.dbname()).append(" (").append(t.loginFrom()).append(").\n");
        }
        out.append("  Grant that user pg_read_all_stats (or pg_monitor) so Sluice can name the application, user and ")
           .append("address of connections that bypass it; without it they are counted but shown as hidden.\n");
    }

    private static void describeClients(StringBuilder out, SluiceConfig cfg) {
        Settings s = cfg.settings();
        out.append("\nClients:\n  max_client_conn=").append(s.maxClientConn())
           .append(" clients can be connected to Sluice at once, across all databases.\n");
        Duration wait = s.queryWaitTimeout();
        out.append("  A client whose pool is busy waits for a server connection ")
           .append(wait.isZero() ? "for as long as it takes (query_wait_timeout=0)"
                   : "up to query_wait_timeout=" + Values.human(wait) + ", then it is disconnected")
           .append(".\n");
        Set<PoolMode> modes = EnumSet.noneOf(PoolMode.class);
        cfg.databases().values().forEach(db -> modes.add(db.effectivePoolMode(s)));
        cfg.users().values().stream().filter(u -> u.poolMode() != null).forEach(u -> modes.add(u.poolMode()));
        if (modes.contains(PoolMode.SESSION)) {
            out.append("  In session mode a client keeps its server connection until it disconnects, so a pool ")
               .append("serves at most pool_size clients at a time; the others wait.\n");
        }
        if (modes.contains(PoolMode.TRANSACTION)) {
            out.append("  In transaction mode a server connection is held only for each transaction, so many more ")
               .append("clients than pool_size can share a pool.\n");
        }
    }

    private static Set<String> authUsers(SluiceConfig cfg) {
        if (cfg.settings().authType() == AuthType.ANY || cfg.authFile().isEmpty()) {
            return null;
        }
        return new LinkedHashSet<>(cfg.authFile().keySet());
    }

    private static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static String names(Set<String> names) {
        List<String> shown = names.stream().limit(MAX_NAMES_LISTED).toList();
        return String.join(", ", shown) + (names.size() > MAX_NAMES_LISTED ? ", ..." : "");
    }
}
