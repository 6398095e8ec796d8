package dev.sluice.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * One [workloads] entry: which clients belong to it (every match= must hold) and the limits that keep it
 * from taking the database from the others. Zero means "no limit" for max and max_clients; a null
 * timeout means "the global setting".
 */
public record WorkloadConfig(String name, List<Match> matches, int reserve, int max, int maxClients, int priority,
                             int maxQueue, Duration queueTimeout, Duration idleTransactionTimeout,
                             Duration transactionTimeout, Duration clientIdleTimeout, Breaker breaker, String source) {
    /**
     * Circuit breaker settings: when at least {@code failureRate} percent of the last {@code window}
     * admissions (at least {@code minCalls}) timed out, the workload is shed for {@code openFor}.
     */
    public record Breaker(int failureRate, int window, int minCalls, Duration openFor) {}
    public static final String DEFAULT = "default";

    public WorkloadConfig {
        matches = List.copyOf(matches);
    }

    /** True when a client with these login attributes belongs to this workload. */
    public boolean matches(String user, String database, String applicationName, InetAddress address) {
        for (Match m : matches) {
            if (!m.test(user, database, applicationName, address)) {
                return false;
            }
        }
        return true;
    }

    /** One condition on a client's login: {@code application_name:api*}, {@code user:app}, {@code database:x}, {@code address:10.0.0.0/8}. */
    public sealed interface Match {
        boolean test(String user, String database, String applicationName, InetAddress address);

        /** Parses {@code kind:pattern}; throws IllegalArgumentException with a message fit for a config error. */
        static Match parse(String text) {
            int colon = text.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("match=" + text + " needs kind:pattern, e.g. match=application_name:api*,"
                        + " match=user:app, match=database:appdb, match=address:10.0.0.0/8");
            }
            String kind = text.substring(0, colon).toLowerCase(Locale.ROOT);
            String pattern = text.substring(colon + 1);
            return switch (kind) {
                case "application_name", "app" -> new Glob("application_name", pattern, 2);
                case "user" -> new Glob("user", pattern, 0);
                case "database", "db" -> new Glob("database", pattern, 1);
                case "address", "addr" -> Cidr.parse(pattern);
                default -> throw new IllegalArgumentException("unknown match kind \"" + kind
                        + "\"; use application_name, user, database or address");
            };
        }
    }

    /** A glob ({@code *} and {@code ?}) on user (0), database (1) or application_name (2). */
    public record Glob(String field, String pattern, int which) implements Match {
        @Override
        public boolean test(String user, String database, String applicationName, InetAddress address) {
            String v = which == 0 ? user : which == 1 ? database : applicationName;
            return v != null && matches(pattern, v);
        }

        /**
         * {@code *} (any run of characters) and {@code ?} (one character), everything else literal. Runs at
         * every login and every SET application_name, so it matches in place, without building a regex:
         * on a mismatch after a {@code *}, the star takes one more character and matching resumes.
         */
        static boolean matches(String glob, String s) {
            int g = 0;
            int i = 0;
            int star = -1;
            int resume = 0;
            while (i < s.length()) {
                if (g < glob.length() && (glob.charAt(g) == '?' || glob.charAt(g) == s.charAt(i))
                        && glob.charAt(g) != '*') {
                    g++;
                    i++;
                } else if (g < glob.length() && glob.charAt(g) == '*') {
                    star = g++;
                    resume = i;
                } else if (star >= 0) {
                    g = star + 1;
                    i = ++resume;
                } else {
                    return false;
                }
            }
            while (g < glob.length() && glob.charAt(g) == '*') {
                g++;
            }
            return g == glob.length();
        }

        @Override
        public String toString() {
            return field + ":" + pattern;
        }
    }

    /** A client address range: {@code 10.0.0.0/8}, {@code ::1/128}, or a single address. */
    public record Cidr(byte[] network, int prefix, String text) implements Match {
        static Cidr parse(String text) {
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            if (!host.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("address:" + text + " is not an IP address or CIDR range");
            }
            byte[] net;
            try {
                net = InetAddress.getByName(host).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("address:" + text + " is not an IP address or CIDR range");
            }
            int prefix = net.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > net.length * 8) {
                    throw new IllegalArgumentException("address:" + text + " has an invalid prefix length");
                }
            }
            return new Cidr(net, prefix, text);
        }

        @Override
        public boolean test(String user, String database, String applicationName, InetAddress address) {
            if (address == null) {
                return false;
            }
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            int bits = prefix;
            for (int i = 0; i < a.length && bits > 0; i++, bits -= 8) {
                int mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
                if ((a[i] & mask) != (network[i] & mask)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public String toString() {
            return "address:" + text;
        }
    }
}
