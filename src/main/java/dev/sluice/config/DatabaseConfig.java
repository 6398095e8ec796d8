package dev.sluice.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

// Where one client-visible database name is routed, and its per-database pool overrides.
/**
 * One [databases] entry. Integer/PoolMode fields are null when the connection string does not set them,
 * meaning "use the global setting"; the effective...(Settings) helpers resolve that.
 *
 * @param host              "127.0.0.1" when not given (PgBouncer would use a Unix socket); a value starting
 *                          with '/' is a Unix-socket directory, kept as written for the proxy to decide
 * @param dbname            the PostgreSQL database; the entry's own name when not given, and null for the
 *                          "*" fallback entry (meaning: the name the client asked for)
 * @param user              forced server user (one pool for the whole database), or null
 * @param maxDbConnectionsAuto true for max_db_connections=auto in this entry (maxDbConnections is then 0); false
 *                          when the entry gives a number or nothing (see effectiveMaxDbConnectionsAuto)
 * @param startupParameters client_encoding, DateStyle, TimeZone, application_name from the connection string
 * @param source            "file:line" of the entry
 */
public record DatabaseConfig(String name, String host, int port, String dbname, String user, String password,
        Integer poolSize, Integer minPoolSize, Integer reservePoolSize, PoolMode poolMode, Integer maxDbConnections,
        boolean maxDbConnectionsAuto, Map<String, String> startupParameters, String source) {

    /** The name of the fallback entry used for any database name not listed. */
    public static final String FALLBACK = "*";

    /** An entry without max_db_connections = auto (the shape before auto existed). */
    public DatabaseConfig(String name, String host, int port, String dbname, String user, String password,
            Integer poolSize, Integer minPoolSize, Integer reservePoolSize, PoolMode poolMode, Integer maxDbConnections,
            Map<String, String> startupParameters, String source) {
        this(name, host, port, dbname, user, password, poolSize, minPoolSize, reservePoolSize, poolMode,
                maxDbConnections, false, startupParameters, source);
    }

    public DatabaseConfig {
        if (maxDbConnectionsAuto && (maxDbConnections == null || maxDbConnections != 0)) {
            throw new IllegalArgumentException("max_db_connections = auto is represented as maxDbConnections 0");
        }
        // Keep the order the user wrote the parameters in; it is the order they are sent to the server.
        startupParameters = Collections.unmodifiableMap(new LinkedHashMap<>(startupParameters));
    }

    /** True for the "*" entry. */
    public boolean isFallback() {
        return FALLBACK.equals(name);
    }

    /** True when user= is set: every client shares one pool logged in as that user. */
    public boolean hasForcedUser() {
        return user != null;
    }

    /** A copy routed for a client-requested name; used to instantiate the "*" entry. */
    public DatabaseConfig forRequestedName(String requested) {
        return new DatabaseConfig(requested, host, port, dbname == null ? requested : dbname, user, password,
                poolSize, minPoolSize, reservePoolSize, poolMode, maxDbConnections, maxDbConnectionsAuto,
                startupParameters, source);
    }

    public int effectivePoolSize(Settings settings) {
        return poolSize != null ? poolSize : settings.defaultPoolSize();
    }

    public int effectiveMinPoolSize(Settings settings) {
        return minPoolSize != null ? minPoolSize : settings.minPoolSize();
    }

    public int effectiveReservePoolSize(Settings settings) {
        return reservePoolSize != null ? reservePoolSize : settings.reservePoolSize();
    }

    /** Pool mode of this database ignoring [users] overrides; see SluiceConfig.poolMode for the full rule. */
    public PoolMode effectivePoolMode(Settings settings) {
        return poolMode != null ? poolMode : settings.poolMode();
    }

    /** 0 means unlimited, and also "auto": see effectiveMaxDbConnectionsAuto. */
    public int effectiveMaxDbConnections(Settings settings) {
        return maxDbConnections != null ? maxDbConnections : settings.maxDbConnections();
    }

    /**
     * True when this database's server connections are capped by the database budget read from the server
     * (max_db_connections = auto here, or globally and not overridden here by a number).
     */
    public boolean effectiveMaxDbConnectionsAuto(Settings settings) {
        return maxDbConnections != null ? maxDbConnectionsAuto : settings.maxDbConnectionsAuto();
    }
}
