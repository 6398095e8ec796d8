package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * What "the pool is healthy again" means after a fault, checked from both ends: Sluice's console (no
 * client left, no server leased, logging in or waiting) and PostgreSQL's pg_stat_activity (every backend
 * of the database belongs to a server Sluice lists, and none is in a transaction or running a query).
 */
final class PoolHealth {
    private PoolHealth() {}

    /** Creates {@code name} on the server unless it exists (the shared PostgreSQL outlives test classes). */
    static void createDatabase(Connection direct, String name) throws SQLException {
        try (Statement st = direct.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            if (!"42P04".equals(e.getSQLState())) { // duplicate_database
                throw e;
            }
        }
    }

    /** Backend pid → state of every backend connected to {@code database}, except the asking one. */
    static Map<Integer, String> backends(Connection direct, String database) throws SQLException {
        Map<Integer, String> out = new HashMap<>();
        try (Statement st = direct.createStatement();
             ResultSet rs = st.executeQuery("SELECT pid, coalesce(state, '') FROM pg_stat_activity WHERE datname = '"
                     + database + "' AND pid <> pg_backend_pid() AND backend_type = 'client backend'")) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getString(2));
            }
        }
        return out;
    }

    /** The console's view of one pool, or an empty map when the pool does not exist (yet). */
    static Map<String, String> pool(Console console, String database) throws SQLException {
        return console.query("SHOW POOLS").rows().stream().filter(r -> database.equals(r.get("database")))
                .findFirst().orElse(Map.of());
    }

    static Set<Integer> serverPids(Console console, String database) throws SQLException {
        return console.query("SHOW SERVERS").rows().stream().filter(r -> database.equals(r.get("database")))
                .map(r -> Integer.parseInt(r.get("remote_pid"))).collect(Collectors.toSet());
    }

    /**
     * Waits (up to {@code within}) until the pool of {@code database} is idle: cl_active, cl_waiting,
     * sv_active and sv_login 0; Sluice's servers are exactly PostgreSQL's backends of that database; and
     * every one of them is idle (not in a transaction, not running a query). Fails with what it last saw.
     */
    static void awaitIdle(Console console, Callable<Connection> direct, String database, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            Map<String, String> p = pool(console, database);
            Set<Integer> servers = serverPids(console, database);
            Map<Integer, String> backends;
            try (Connection d = direct.call()) {
                backends = backends(d, database);
            }
            boolean idle = !p.isEmpty() && p.get("cl_active").equals("0") && p.get("cl_waiting").equals("0")
                    && p.get("sv_active").equals("0") && p.get("sv_login").equals("0")
                    && servers.equals(backends.keySet())
                    && backends.values().stream().allMatch("idle"::equals);
            assertThat(idle).as("pool of %s idle: SHOW POOLS %s; SHOW SERVERS pids %s; pg_stat_activity %s",
                    database, p, servers, backends).isTrue();
        });
    }
}
