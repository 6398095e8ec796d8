package dev.sluice.config;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Each PgBouncer setting Sluice does not implement maps to the values that are harmless to ignore
 * (PgBouncer's default, or a value whose effect Sluice has anyway); any other value gets a warning, so
 * an unchanged pgbouncer.ini still starts but nothing is dropped silently. The list follows PgBouncer's
 * documented settings up to 1.25 (plus a few newer or older names that appear in real configs).
 */
// The table of PgBouncer settings Sluice recognises but ignores, and which values are safe to ignore.
final class UnimplementedSettings {

    /** Harmless values for a setting; ANY means every value is harmless. */
    private record Entry(Set<String> harmless, String hint) {
    }

    private static final Set<String> ANY = Set.of("\u0000any");
    private static final Set<String> EMPTY = Set.of("");

    private static final Map<String, Entry> TABLE = Map.ofEntries(
            // Generic / process settings
            Map.entry("logfile", new Entry(EMPTY, "Sluice logs to standard error")),
            Map.entry("pidfile", new Entry(EMPTY, "run Sluice under a service manager instead")),
            Map.entry("unix_socket_mode", new Entry(Set.of("0777"), null)),
            Map.entry("unix_socket_group", new Entry(EMPTY, null)),
            Map.entry("user", new Entry(EMPTY, "start Sluice as the Unix user it should run as")),
            Map.entry("peer_id", new Entry(Set.of("0"), null)),
            Map.entry("disable_pqexec", new Entry(Set.of("0"), null)),
            Map.entry("application_name_add_host", new Entry(Set.of("0"), null)),
            Map.entry("conffile", new Entry(ANY, null)),
            Map.entry("service_name", new Entry(ANY, null)), // Windows service registration only
            Map.entry("job_name", new Entry(ANY, null)),
            Map.entry("scram_iterations", new Entry(Set.of("4096"), null)),
            Map.entry("track_extra_parameters", new Entry(Set.of("", "intervalstyle"), null)),
            Map.entry("server_round_robin", new Entry(Set.of("0"), null)),
            Map.entry("max_db_client_connections", new Entry(Set.of("0"), "limit clients with max_client_conn")),
            Map.entry("max_user_client_connections", new Entry(Set.of("0"), "limit clients with max_client_conn")),
            // Authentication
            Map.entry("auth_hba_file", new Entry(EMPTY, null)),
            Map.entry("auth_ident_file", new Entry(EMPTY, null)),
            Map.entry("auth_user", new Entry(EMPTY, "list every user in auth_file instead of using auth_query")),
            Map.entry("auth_query", new Entry(ANY, null)), // only used together with auth_user, which warns
            Map.entry("auth_dbname", new Entry(EMPTY, null)),
            Map.entry("auth_ldap_options", new Entry(EMPTY, null)),
            Map.entry("auth_pam_confdir", new Entry(EMPTY, null)),
            // Logging
            Map.entry("syslog", new Entry(Set.of("0"), "Sluice logs to standard error")),
            Map.entry("syslog_ident", new Entry(Set.of("pgbouncer"), null)),
            Map.entry("syslog_facility", new Entry(Set.of("daemon"), null)),
            Map.entry("log_pooler_errors", new Entry(Set.of("1"), null)),
            Map.entry("log_stats", new Entry(Set.of("1"), null)),
            Map.entry("verbose", new Entry(Set.of("0"), null)),
            // Timeouts Sluice does not have yet
            Map.entry("server_fast_close", new Entry(Set.of("0"), null)),
            Map.entry("autodb_idle_timeout", new Entry(Set.of("3600"), null)),
            Map.entry("pool_idle_timeout", new Entry(Set.of("0"), null)),
            Map.entry("cancel_wait_timeout", new Entry(Set.of("10"), null)),
            Map.entry("transaction_timeout", new Entry(Set.of("0"), null)),
            Map.entry("query_wait_notify", new Entry(Set.of("0", "5"), null)),
            Map.entry("login_notify_message", new Entry(EMPTY, null)),
            Map.entry("suspend_timeout", new Entry(Set.of("10"), null)), // online restart (-R), older PgBouncers
            // DNS
            Map.entry("dns_max_ttl", new Entry(Set.of("15"), null)),
            Map.entry("dns_nxdomain_ttl", new Entry(Set.of("15"), null)),
            Map.entry("dns_zone_check_period", new Entry(Set.of("0"), null)),
            Map.entry("resolv_conf", new Entry(EMPTY, null)),
            // Low-level network
            Map.entry("pkt_buf", new Entry(Set.of("4096"), null)),
            Map.entry("max_packet_size", new Entry(Set.of("2147483647"),
                    "Sluice uses max_client_message_size and max_server_message_size instead")),
            Map.entry("listen_backlog", new Entry(Set.of("128"), null)),
            Map.entry("sbuf_loopcnt", new Entry(Set.of("5"), null)),
            Map.entry("so_reuseport", new Entry(Set.of("0"), null)),
            Map.entry("tcp_defer_accept", new Entry(ANY, null)), // a latency tweak with no visible effect
            Map.entry("tcp_socket_buffer", new Entry(Set.of("", "0"), null)),
            // TLS: the client_tls_*/server_tls_* keys are implemented; these finer knobs are not (the JDK's defaults apply).
            Map.entry("client_tls13_ciphers", new Entry(EMPTY, null)),
            Map.entry("client_tls_ecdhcurve", new Entry(Set.of("auto"), null)),
            Map.entry("client_tls_dheparams", new Entry(Set.of("auto"), null)),
            Map.entry("server_tls13_ciphers", new Entry(EMPTY, null)));

    private UnimplementedSettings() {
    }

    static boolean contains(String key) {
        return TABLE.containsKey(key);
    }

    static Set<String> keys() {
        return TABLE.keySet();
    }

    /**
     * The warning for setting {@code key} to {@code value}, or empty when the value is harmless.
     * Only call for keys where {@link #contains} is true.
     */
    static Optional<String> warningFor(String key, String value) {
        Entry entry = TABLE.get(key);
        if (entry.harmless == ANY) {
            return Optional.empty();
        }
        String v = normalize(value);
        for (String ok : entry.harmless) {
            if (normalize(ok).equals(v)) {
                return Optional.empty();
            }
        }
        return Optional.of("setting " + key + " is not implemented by Sluice yet; ignored"
                + (entry.hint == null ? "" : " (" + entry.hint + ")"));
    }

    /** Makes "1"/"on"/"true" and "60"/"60.0"/"0777"/"777" compare equal; everything else compares case-blind. */
    static String normalize(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        switch (v) {
            case "on", "true", "yes":
                return "1";
            case "off", "false", "no":
                return "0";
            default:
                break;
        }
        if (v.matches("[0-9]+(\\.[0-9]*)?")) {
            return new BigDecimal(v.endsWith(".") ? v + "0" : v).stripTrailingZeros().toPlainString();
        }
        return v;
    }
}
