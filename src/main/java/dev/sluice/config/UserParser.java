package dev.sluice.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

// Turns one [users] line ("name = pool_mode=... max_user_connections=...") into a UserConfig.
final class UserParser {

    /** PgBouncer's per-user keys that Sluice ignores, with the values that are harmless to ignore. */
    private static final Map<String, Set<String>> UNIMPLEMENTED = Map.of(
            "pool_size", Set.of(),
            "reserve_pool_size", Set.of(),
            "query_timeout", Set.of(),
            "query_wait_timeout", Set.of("-1"),
            "idle_transaction_timeout", Set.of(),
            "transaction_timeout", Set.of(),
            "client_idle_timeout", Set.of(),
            "max_user_client_connections", Set.of("0"));

    private UserParser() {
    }

    static Optional<UserConfig> parse(IniEntry e, Problems problems) {
        String name = e.key();
        String where = "[users] " + name;
        int errorsBefore = problems.errorCount();
        List<ConnString.Param> params;
        try {
            params = ConnString.parse(Values.unquote(e.value()));
        } catch (IllegalArgumentException ex) {
            problems.error(e, where + ": " + ex.getMessage());
            return Optional.empty();
        }
        PoolMode poolMode = null;
        Integer maxUserConnections = null;
        for (ConnString.Param p : params) {
            try {
                switch (p.key()) {
                    case "pool_mode" -> poolMode = SettingsParser.parsePoolMode(p.value());
                    case "max_user_connections" -> maxUserConnections = Values.nonNegativeInt(p.value());
                    default -> {
                        if (UNIMPLEMENTED.containsKey(p.key())) {
                            if (!UNIMPLEMENTED.get(p.key()).contains(p.value().strip().toLowerCase(Locale.ROOT))) {
                                problems.warn(e, where + ": " + p.key() + " is not implemented by Sluice yet; ignored");
                            }
                        } else {
                            problems.error(e, where + ": unknown key '" + p.key() + "'; known keys are pool_mode, "
                                    + "max_user_connections");
                        }
                    }
                }
            } catch (IllegalArgumentException ex) {
                problems.error(e, where + ": " + p.key() + ": " + ex.getMessage());
            }
        }
        if (problems.errorCount() > errorsBefore) {
            return Optional.empty();
        }
        return Optional.of(new UserConfig(name, poolMode, maxUserConnections, e.source()));
    }
}
