package dev.sluice.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

// Everything loaded from one pgbouncer.ini (plus includes and auth_file), ready for the proxy to use.
/**
 * @param databases     insertion-ordered; may include the "*" fallback entry
 * @param authFile      user name -> secret: plain text, "md5" + 32 hex digits, or a SCRAM-SHA-256 secret
 * @param extraSections "workloads" and "alerts" (always present, possibly empty), kept raw for later features
 * @param warnings      things that load but deserve attention (settings Sluice ignores, overridden keys)
 */
public record SluiceConfig(Path source, Settings settings, Map<String, DatabaseConfig> databases,
        Map<String, UserConfig> users, Map<String, String> authFile, Map<String, List<RawEntry>> extraSections,
        List<ConfigProblem> warnings) {

    public SluiceConfig {
        // Order matters to people reading check-config output, so copy into ordered, read-only maps.
        databases = Collections.unmodifiableMap(new LinkedHashMap<>(databases));
        users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
        authFile = Collections.unmodifiableMap(new LinkedHashMap<>(authFile));
        Map<String, List<RawEntry>> extras = new LinkedHashMap<>();
        extraSections.forEach((k, v) -> extras.put(k, List.copyOf(v)));
        extraSections = Collections.unmodifiableMap(extras);
        warnings = List.copyOf(warnings);
    }

    /**
     * The entry a client asking for {@code requested} is routed to: the exact entry, else the "*" entry
     * renamed to the requested name (with dbname = requested unless "*" sets dbname). Empty when neither
     * exists. The admin console name is not special-cased here.
     */
    public Optional<DatabaseConfig> database(String requested) {
        if (requested == null) {
            return Optional.empty();
        }
        DatabaseConfig exact = databases.get(requested);
        if (exact != null) {
            return Optional.of(exact);
        }
        DatabaseConfig fallback = databases.get(DatabaseConfig.FALLBACK);
        return fallback == null ? Optional.empty() : Optional.of(fallback.forRequestedName(requested));
    }

    /** The [workloads] entries in matching order ("default" last); validated when the file was loaded. */
    public List<WorkloadConfig> workloads() {
        return WorkloadParser.parse(extraSections.getOrDefault("workloads", List.of()), new Problems());
    }

    /** The [alerts] section over the built-in defaults; validated when the file was loaded. */
    public AlertsConfig alerts() {
        return AlertsParser.parse(extraSections.getOrDefault("alerts", List.of()), new Problems());
    }

    /** PgBouncer's precedence: [users] pool_mode, else the database's, else the global one. */
    public PoolMode poolMode(DatabaseConfig database, String user) {
        UserConfig u = users.get(user);
        if (u != null && u.poolMode() != null) {
            return u.poolMode();
        }
        return database.effectivePoolMode(settings);
    }

    /** [users] max_user_connections, else the global one; 0 means unlimited. */
    public int maxUserConnections(String user) {
        UserConfig u = users.get(user);
        return u != null && u.maxUserConnections() != null ? u.maxUserConnections() : settings.maxUserConnections();
    }
}
