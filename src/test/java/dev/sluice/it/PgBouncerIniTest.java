package dev.sluice.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.server.SluiceServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A pgbouncer.ini as PgBouncer users write it (its documented example, trimmed) starts Sluice unchanged. */
class PgBouncerIniTest {
    @TempDir
    Path dir;

    @Test
    void documentedStylePgBouncerConfigWorksUnchanged() throws Exception {
        Files.writeString(dir.resolve("userlist.txt"), """
                "appuser" "apppass"
                "scramuser" "scrampass"
                """);
        Files.writeString(dir.resolve("pgbouncer.ini"), """
                ;; database name = connect string
                [databases]
                ; redirect a database name to a real one, forcing nothing else
                app = host=127.0.0.1 port=%d dbname=appdb
                ; the fallback for any other name
                * = host=127.0.0.1 port=%d

                [users]
                scramuser = pool_mode=session

                [pgbouncer]
                logfile =
                pidfile =
                listen_addr = 127.0.0.1
                listen_port = 0
                unix_socket_dir = /tmp
                auth_type = md5
                auth_file = userlist.txt
                admin_users =
                pool_mode = transaction
                server_reset_query = DISCARD ALL
                max_client_conn = 100
                default_pool_size = 5
                reserve_pool_size = 1
                reserve_pool_timeout = 3
                server_lifetime = 3600
                server_idle_timeout = 600
                server_connect_timeout = 15
                server_login_retry = 15
                query_wait_timeout = 120
                client_login_timeout = 60
                log_connections = 1
                log_disconnections = 1
                ignore_startup_parameters = extra_float_digits
                """.formatted(Postgres.port(), Postgres.port()));
        SluiceConfig cfg = ConfigLoader.load(dir.resolve("pgbouncer.ini"));
        SluiceServer server = new SluiceServer(cfg, 2);
        int port = server.start();
        try {
            Properties p = new Properties();
            p.setProperty("user", "appuser");
            p.setProperty("password", "apppass");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/app", p);
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_database(), current_user")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("appdb");
                assertThat(rs.getString(2)).isEqualTo("appuser");
            }
            p.setProperty("user", "scramuser");
            p.setProperty("password", "scrampass");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
                 Statement st = c.createStatement()) {
                // session mode for this user ([users] pool_mode): the backend stays the same across transactions
                ResultSet rs = st.executeQuery("SELECT pg_backend_pid()");
                rs.next();
                int pid = rs.getInt(1);
                rs = st.executeQuery("SELECT pg_backend_pid()");
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(pid);
            }
        } finally {
            server.close();
        }
    }
}
