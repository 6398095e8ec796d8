package dev.sluice.it;

import dev.sluice.config.ConfigLoader;
import dev.sluice.config.SluiceConfig;
import dev.sluice.server.SluiceServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** A Sluice started from a real config file (written to a temp dir) in front of the test PostgreSQL. */
public final class SluiceHandle implements AutoCloseable {
    private final SluiceServer server;
    private final int port;
    private final Path dir;

    private SluiceHandle(SluiceServer server, int port, Path dir) {
        this.server = server;
        this.port = port;
        this.dir = dir;
    }

    /**
     * Starts Sluice with {@code [databases]} pointing at the test PostgreSQL. {@code settings} is the body
     * of the [sluice] section (listen_port is forced to 0), {@code userlist} the auth_file content or null.
     */
    public static SluiceHandle start(String databases, String settings, String userlist) throws Exception {
        Path dir = Files.createTempDirectory("sluice-test");
        StringBuilder ini = new StringBuilder();
        ini.append("[databases]\n").append(databases.replace("${PGPORT}", String.valueOf(Postgres.port())))
                .append("\n\n[sluice]\nlisten_addr = 127.0.0.1\nlisten_port = 0\n").append(settings).append('\n');
        if (userlist != null) {
            Files.writeString(dir.resolve("userlist.txt"), userlist);
            ini.append("auth_file = userlist.txt\n");
        }
        Path file = dir.resolve("sluice.ini");
        Files.writeString(file, ini.toString());
        SluiceConfig cfg = ConfigLoader.load(file);
        SluiceServer server = new SluiceServer(cfg, 2);
        int port = server.start();
        return new SluiceHandle(server, port, dir);
    }

    /** Shortcut: every database through Sluice, trust auth, the given pool mode and pool size. */
    public static SluiceHandle trust(String poolMode, int poolSize, String extra) throws Exception {
        return start("* = host=127.0.0.1 port=${PGPORT}",
                "auth_type = trust\npool_mode = " + poolMode + "\ndefault_pool_size = " + poolSize + "\n" + extra, null);
    }

    public int port() {
        return port;
    }

    public Path dir() {
        return dir;
    }

    public SluiceServer server() {
        return server;
    }

    public String url(String db) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + db;
    }

    public Connection connect(String db, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        return DriverManager.getConnection(url(db), p);
    }

    public Connection connect(String db, Properties p) throws SQLException {
        return DriverManager.getConnection(url(db), p);
    }

    /** A superuser connection through Sluice with prepared statements kept unnamed (transaction-mode safe). */
    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("prepareThreshold", "0");
        return DriverManager.getConnection(url("postgres"), p);
    }

    @Override
    public void close() {
        server.close();
    }
}
