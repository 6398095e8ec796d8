package dev.sluice.config;

import java.util.Locale;

// stats_listen: where the HTTP listener for /metrics, /healthz, /readyz and the dashboard binds.
/**
 * {@code stats_listen = HOST:PORT}; {@code *} as host means every address, {@code [::1]:9930} an IPv6
 * address. Empty or {@code off} turns the listener off (Settings then holds null).
 *
 * @param explicit true when the file set it; with the default (not set), a port already taken by another
 *                 process is a warning rather than a failed start, so two Sluice instances on one host
 *                 (each with its own pgbouncer.ini, as PgBouncer runs) still both start
 */
public record StatsListen(String host, int port, boolean explicit) {

    /** Loopback only: the endpoints have no authentication, so nothing is exposed unless asked for. */
    public static final StatsListen DEFAULT = new StatsListen("127.0.0.1", 9930, false);

    public StatsListen {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /** True when the host means every address. */
    public boolean allAddresses() {
        return host.equals("*");
    }

    /** "127.0.0.1:9930", "[::1]:9930", "*:9930". */
    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Parses the setting; null for "" and "off". */
    static StatsListen parse(String value) {
        String v = value.strip();
        if (v.isEmpty() || v.toLowerCase(Locale.ROOT).equals("off")) {
            return null;
        }
        int colon = v.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(Values.quoted(v) + " has no port; write HOST:PORT (127.0.0.1:9930, "
                    + "*:9930 for every address, [::1]:9930), or off");
        }
        String host = v.substring(0, colon).strip();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException(Values.quoted(v) + ": put an IPv6 address in brackets, e.g. [::1]:9930");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException(Values.quoted(v) + " has no host; write 127.0.0.1:PORT for this machine "
                    + "only or *:PORT for every address");
        }
        int port;
        try {
            port = Values.intInRange(v.substring(colon + 1), 0, 65535);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("port: " + e.getMessage());
        }
        return new StatsListen(host, port, true);
    }
}
