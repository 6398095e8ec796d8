package dev.sluice.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One real PostgreSQL for the whole test run (embedded binaries from Maven), with roles for the auth
 * tests and a pg_hba.conf that makes those roles log in with md5 / SCRAM while "postgres" stays trusted.
 */
public final class Postgres {
    private static EmbeddedPostgres pg;

    private Postgres() {}

    public static synchronized EmbeddedPostgres get() {
        if (pg == null) {
            try {
                pg = EmbeddedPostgres.builder()
                        .setServerConfig("max_connections", "60")
                        .start();
                setUp();
            } catch (IOException | SQLException e) {
                throw new IllegalStateException("could not start embedded PostgreSQL", e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
        }
        return pg;
    }

    public static int port() {
        return get().getPort();
    }

    /** A direct (not through Sluice) superuser connection. */
    public static Connection direct() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port() + "/postgres?user=postgres");
    }

    private static void setUp() throws SQLException, IOException {
        try (Connection c = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres?user=postgres");
             Statement st = c.createStatement()) {
            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE md5user LOGIN PASSWORD 'md5pass'");
            st.execute("SET password_encryption = 'scram-sha-256'");
            st.execute("CREATE ROLE scramuser LOGIN PASSWORD 'scrampass'");
            st.execute("CREATE ROLE appuser LOGIN PASSWORD 'apppass'");
            st.execute("CREATE DATABASE appdb OWNER appuser");
            var rs = st.executeQuery("SHOW hba_file");
            rs.next();
            Path hba = Path.of(rs.getString(1));
            Files.writeString(hba, String.join("\n",
                    "local all all trust",
                    "host all postgres 127.0.0.1/32 trust",
                    "host all md5user 127.0.0.1/32 md5",
                    "host all all 127.0.0.1/32 scram-sha-256",
                    "host all all ::1/128 scram-sha-256",
                    ""));
            st.execute("SELECT pg_reload_conf()");
        }
    }
}
