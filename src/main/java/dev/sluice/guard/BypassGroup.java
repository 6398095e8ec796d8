package dev.sluice.guard;

import java.time.Instant;

// Connections to one server that do not come through Sluice, grouped by who they say they are.
/**
 * One group of pg_stat_activity client backends with the same application_name, user and client address
 * that are neither Sluice's server connections nor its monitor.
 *
 * <p>PostgreSQL shows every role the pid, user and application_name of every session, but the client
 * address, backend start and backend type of other roles' sessions only to superusers, members of
 * pg_read_all_stats (pg_monitor includes it) and roles with the privileges of the session's role. Such
 * rows are still counted (a session with a user could be a client backend, and guessing low would let the
 * server fill up), in groups marked {@code hidden} with no address and no start time.
 *
 * @param applicationName    "" when the client set none
 * @param user               the session's role; "" when unknown
 * @param clientAddress      the client's IP address; "local" for a Unix-socket connection; null when hidden
 * @param hidden             true when the monitor's login may not see this session's details
 * @param count              sessions in the group, at least 1
 * @param oldestBackendStart when the group's oldest session started; null when hidden
 */
public record BypassGroup(String applicationName, String user, String clientAddress, boolean hidden, int count,
        Instant oldestBackendStart) {

    public BypassGroup {
        applicationName = applicationName == null ? "" : applicationName;
        user = user == null ? "" : user;
        if (count < 1) {
            throw new IllegalArgumentException("a bypass group has at least one connection");
        }
    }

    /** "app=analytics user=app addr=10.0.0.5 (7)"; values with blanks are double-quoted, none is "". */
    public String describe() {
        return "app=" + word(applicationName) + " user=" + word(user) + " addr="
                + (hidden ? "hidden" : word(clientAddress)) + " (" + count + ")";
    }

    private static String word(String s) {
        if (s == null || s.isEmpty()) {
            return "\"\"";
        }
        boolean plain = s.chars().allMatch(c -> c > ' ' && c < 127 && c != '"' && c != '=');
        return plain ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
