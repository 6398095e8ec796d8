package dev.sluice.replay;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The reference API of the incident: real HTTP on loopback over the bank schema. POST /login, GET
 * /accounts/{id}, POST /transfers (one database transaction). Any database error is an HTTP 500, as in
 * the postmortem. By default each request opens its own connection, as that system did before pooling;
 * with api_pool = hikari it borrows from a HikariCP pool instead.
 */
final class ApiService implements AutoCloseable {
    /** Where the API gets a connection for one request. */
    interface Connections extends AutoCloseable {
        Connection get() throws SQLException;

        @Override
        void close();
    }

    private final HttpServer http;
    private final ExecutorService workers;
    private final Connections connections;

    ApiService(Scenario scenario, String jdbcUrl) throws IOException {
        Properties p = new Properties();
        p.setProperty("user", ReplayDatabase.ROLE);
        p.setProperty("ApplicationName", "api");
        p.setProperty("connectTimeout", "5");
        p.setProperty("loginTimeout", "5");
        p.setProperty("socketTimeout", "10");
        p.setProperty("prepareThreshold", "0"); // the same for every mode; PgBouncer 1.18 has no prepared-statement support
        if (scenario.apiPool().equals("hikari")) {
            HikariConfig hc = new HikariConfig();
            hc.setJdbcUrl(jdbcUrl);
            hc.setDataSourceProperties(p);
            hc.setUsername(ReplayDatabase.ROLE);
            hc.setMaximumPoolSize(scenario.apiPoolSize());
            hc.setMinimumIdle(Math.min(2, scenario.apiPoolSize()));
            hc.setConnectionTimeout(5000);
            hc.setInitializationFailTimeout(-1); // start even if the database refuses us right now
            hc.setPoolName("api");
            HikariDataSource ds = new HikariDataSource(hc);
            connections = new Connections() {
                @Override
                public Connection get() throws SQLException {
                    return ds.getConnection();
                }

                @Override
                public void close() {
                    ds.close();
                }
            };
        } else {
            connections = new Connections() {
                @Override
                public Connection get() throws SQLException {
                    return DriverManager.getConnection(jdbcUrl, p);
                }

                @Override
                public void close() {}
            };
        }
        workers = Executors.newFixedThreadPool(scenario.apiThreads(), r -> {
            Thread t = new Thread(r, "replay-api");
            t.setDaemon(true);
            return t;
        });
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
        http.setExecutor(workers);
        http.createContext("/login", ex -> handle(ex, this::login));
        http.createContext("/accounts/", ex -> handle(ex, this::account));
        http.createContext("/transfers", ex -> handle(ex, this::transfer));
        http.start();
    }

    int port() {
        return http.getAddress().getPort();
    }

    private interface Handler {
        Reply run(HttpExchange ex, Map<String, String> form) throws SQLException;
    }

    private record Reply(int status, String body) {}

    private void handle(HttpExchange ex, Handler h) throws IOException {
        Reply r;
        try {
            Map<String, String> form = form(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            r = h.run(ex, form);
        } catch (SQLException e) {
            r = new Reply(500, "{\"error\":\"database error\",\"sqlstate\":\"" + e.getSQLState() + "\"}");
        } catch (RuntimeException e) {
            r = new Reply(500, "{\"error\":\"internal error\"}");
        }
        byte[] b = r.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(r.status(), b.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(b);
        }
    }

    private static Map<String, String> form(String body) {
        Map<String, String> m = new HashMap<>();
        for (String kv : body.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }

    /** POST /login user=user42&password=pw-42: checks the password hash, opens a session. */
    private Reply login(HttpExchange ex, Map<String, String> f) throws SQLException {
        try (Connection c = connections.get()) {
            int userId;
            try (PreparedStatement ps = c.prepareStatement("SELECT id, salt, password_hash FROM users WHERE username = ?")) {
                ps.setString(1, f.getOrDefault("user", ""));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !sha256(rs.getString(2) + f.getOrDefault("password", "")).equals(rs.getString(3))) {
                        return new Reply(401, "{\"error\":\"wrong user or password\"}");
                    }
                    userId = rs.getInt(1);
                }
            }
            String token = UUID.randomUUID().toString();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO sessions (token, user_id) VALUES (?, ?)")) {
                ps.setString(1, token);
                ps.setInt(2, userId);
                ps.executeUpdate();
            }
            return new Reply(200, "{\"token\":\"" + token + "\"}");
        }
    }

    /** GET /accounts/{id}: the balance and the last five transfers out. */
    private Reply account(HttpExchange ex, Map<String, String> f) throws SQLException {
        int id = Integer.parseInt(ex.getRequestURI().getPath().substring("/accounts/".length()));
        try (Connection c = connections.get()) {
            StringBuilder sb = new StringBuilder();
            try (PreparedStatement ps = c.prepareStatement("SELECT balance FROM accounts WHERE id = ?")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return new Reply(404, "{\"error\":\"no such account\"}");
                    }
                    sb.append("{\"id\":").append(id).append(",\"balance\":").append(rs.getBigDecimal(1)).append(",\"recent\":[");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT to_id, amount FROM transfers WHERE from_id = ? ORDER BY created_at DESC LIMIT 5")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean first = true;
                    while (rs.next()) {
                        sb.append(first ? "" : ",").append("{\"to\":").append(rs.getInt(1)).append(",\"amount\":")
                                .append(rs.getBigDecimal(2)).append('}');
                        first = false;
                    }
                }
            }
            return new Reply(200, sb.append("]}").toString());
        }
    }

    /** POST /transfers from=1&to=2&amount=5.00: moves money in one transaction (rows locked in id order). */
    private Reply transfer(HttpExchange ex, Map<String, String> f) throws SQLException {
        int from = Integer.parseInt(f.get("from"));
        int to = Integer.parseInt(f.get("to"));
        BigDecimal amount = new BigDecimal(f.get("amount"));
        try (Connection c = connections.get()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT id, balance FROM accounts WHERE id IN (?, ?) ORDER BY id FOR UPDATE")) {
                    ps.setInt(1, from);
                    ps.setInt(2, to);
                    BigDecimal balance = null;
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            if (rs.getInt(1) == from) {
                                balance = rs.getBigDecimal(2);
                            }
                        }
                    }
                    if (balance == null || balance.compareTo(amount) < 0) {
                        c.rollback();
                        return new Reply(409, "{\"error\":\"insufficient funds\"}");
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "UPDATE accounts SET balance = balance + CASE WHEN id = ? THEN -? ELSE ? END WHERE id IN (?, ?)")) {
                    ps.setInt(1, from);
                    ps.setBigDecimal(2, amount);
                    ps.setBigDecimal(3, amount);
                    ps.setInt(4, from);
                    ps.setInt(5, to);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO transfers (from_id, to_id, amount) VALUES (?, ?, ?) RETURNING id")) {
                    ps.setInt(1, from);
                    ps.setInt(2, to);
                    ps.setBigDecimal(3, amount);
                    long id;
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                    c.commit();
                    return new Reply(200, "{\"transfer\":" + id + "}");
                }
            } catch (SQLException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; closing it is all that is left
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        workers.shutdownNow();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connections.close();
    }
}
