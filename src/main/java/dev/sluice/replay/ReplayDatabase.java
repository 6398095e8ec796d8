package dev.sluice.replay;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * The replay's PostgreSQL: embedded, with the incident's max_connections, a non-superuser role "app"
 * for the API and the job (so PostgreSQL's superuser-reserved slots stay free for the replay's own
 * monitoring connection, as a DBA's would), and the bank schema, seeded the same way before each mode.
 */
final class ReplayDatabase implements AutoCloseable {
    static final String DB = "appdb";
    static final String ROLE = "app";

    private final EmbeddedPostgres pg;
    private final int reserved;
    private Connection monitor;

    private ReplayDatabase(EmbeddedPostgres pg, int reserved) {
        this.pg = pg;
        this.reserved = reserved;
    }

    static ReplayDatabase start(int maxConnections) throws IOException, SQLException {
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setServerConfig("max_connections", String.valueOf(maxConnections))
                .setServerConfig("superuser_reserved_connections", "3")
                .setServerConfig("listen_addresses", "127.0.0.1")
                .start();
        try (Connection c = DriverManager.getConnection(url(pg.getPort(), "postgres"), "postgres", null);
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
                rs.next();
                // Loopback only; trust for the replay's own roles (PgBouncer, when it runs, connects as "app" too).
                Files.writeString(Path.of(rs.getString(1)), String.join("\n",
                        "local all all trust",
                        "host all all 127.0.0.1/32 trust",
                        ""));
            }
            st.execute("SELECT pg_reload_conf()");
            st.execute("CREATE ROLE " + ROLE + " LOGIN");
            st.execute("CREATE DATABASE " + DB + " OWNER " + ROLE);
        }
        return new ReplayDatabase(pg, 3);
    }

    static String url(int port, String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    int port() {
        return pg.getPort();
    }

    int maxConnections() throws SQLException {
        try (Statement st = monitor().createStatement(); ResultSet rs = st.executeQuery("SHOW max_connections")) {
            rs.next();
            return Integer.parseInt(rs.getString(1));
        }
    }

    /**
     * Connections the application's role can have: max_connections minus the superuser-reserved slots,
     * minus the replay's own monitoring connection (a superuser one, but PostgreSQL counts it against
     * the same total).
     */
    int ordinarySlots() throws SQLException {
        return maxConnections() - reserved - 1;
    }

    /** A fresh bank for the next mode: nobody connected as "app", the same seeded data. */
    void reset(int accounts) throws SQLException {
        try (Statement st = monitor().createStatement()) {
            st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + ROLE + "'");
            st.execute("SET ROLE " + ROLE);
            st.execute("DROP TABLE IF EXISTS transfers, sessions, accounts, users");
            st.execute("CREATE TABLE users (id int PRIMARY KEY, username text UNIQUE NOT NULL, salt text NOT NULL,"
                    + " password_hash text NOT NULL)");
            st.execute("CREATE TABLE accounts (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users,"
                    + " balance numeric(12,2) NOT NULL CHECK (balance >= 0))");
            st.execute("CREATE TABLE sessions (token text PRIMARY KEY, user_id int NOT NULL,"
                    + " created_at timestamptz NOT NULL DEFAULT now())");
            st.execute("CREATE TABLE transfers (id bigserial PRIMARY KEY, from_id int NOT NULL, to_id int NOT NULL,"
                    + " amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");
            st.execute("CREATE INDEX ON transfers (from_id, created_at)");
            // Passwords are "pw-<id>", stored as sha256(salt || password) in hex.
            st.execute("INSERT INTO users SELECT i, 'user' || i, 's' || i, encode(sha256(convert_to('s' || i || 'pw-' || i,"
                    + " 'UTF8')), 'hex') FROM generate_series(1, " + accounts + ") i");
            st.execute("INSERT INTO accounts SELECT i, i, 1000 FROM generate_series(1, " + accounts + ") i");
            st.execute("RESET ROLE");
            st.execute("ANALYZE");
            st.execute("CHECKPOINT");
        }
    }

    /**
     * Client backends in the replay's database right now, by application_name (the monitor's own
     * connection excluded). Through a pooler, a server connection shows the application_name of the
     * last client it served.
     */
    Map<String, Integer> connectionsByApplication() throws SQLException {
        Map<String, Integer> m = new TreeMap<>();
        try (Statement st = monitor().createStatement(); ResultSet rs = st.executeQuery(
                "SELECT coalesce(application_name, ''), count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                        + " AND pid <> pg_backend_pid() AND usename = '" + ROLE + "' GROUP BY 1")) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getInt(2));
            }
        }
        return m;
    }

    /** The superuser connection the replay watches through; it uses a reserved slot, so it works when the database is full. */
    Connection monitor() throws SQLException {
        if (monitor == null || monitor.isClosed()) {
            monitor = DriverManager.getConnection(url(pg.getPort(), DB) + "?ApplicationName=sluice-replay-monitor",
                    "postgres", null);
        }
        return monitor;
    }

    @Override
    public void close() throws IOException {
        try {
            if (monitor != null) {
                monitor.close();
            }
        } catch (SQLException ignored) {
            // closing anyway
        }
        pg.close();
    }
}
