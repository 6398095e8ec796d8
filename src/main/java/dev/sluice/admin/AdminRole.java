package dev.sluice.admin;

import dev.sluice.config.AuthType;
import dev.sluice.config.Settings;

/** What a console user may do: admin_users run every command, stats_users only SHOW. */
public enum AdminRole {
    ADMIN,
    STATS;

    /**
     * The role of an authenticated {@code user}, or null when the user may not use the console. As in
     * PgBouncer, with auth_type = any every user is let in as a stats user.
     */
    public static AdminRole of(Settings settings, String user) {
        if (settings.adminUsers().contains(user)) {
            return ADMIN;
        }
        if (settings.statsUsers().contains(user) || settings.authType() == AuthType.ANY) {
            return STATS;
        }
        return null;
    }
}
