package dev.sluice.audit;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/** A database given as a postgres:// (or postgresql://) URL: where `sluice audit` puts Sluice in front. */
public record Upstream(String host, int port, String user, String password, String database) {

    /** Parses postgres://[user[:password]@]host[:port][/database]; throws IllegalArgumentException with a usable message. */
    public static Upstream parse(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--upstream " + url + " is not a URL: " + e.getReason());
        }
        if (!"postgres".equals(u.getScheme()) && !"postgresql".equals(u.getScheme())) {
            throw new IllegalArgumentException("--upstream must look like postgres://user:password@host:5432/db");
        }
        if (u.getHost() == null) {
            throw new IllegalArgumentException("--upstream " + url + " names no host");
        }
        String user = System.getProperty("user.name");
        String password = null;
        if (u.getRawUserInfo() != null) {
            String[] ui = u.getRawUserInfo().split(":", 2);
            user = decode(ui[0]);
            password = ui.length > 1 ? decode(ui[1]) : null;
        }
        String db = u.getPath() == null || u.getPath().length() <= 1 ? user : decode(u.getPath().substring(1));
        return new Upstream(u.getHost(), u.getPort() > 0 ? u.getPort() : 5432, user, password, db);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The [databases] connection string: every database name the command asks for, on this server, as this user. */
    String connString() {
        StringBuilder sb = new StringBuilder("host=" + quote(host) + " port=" + port + " user=" + quote(user));
        if (password != null) {
            sb.append(" password=").append(quote(password));
        }
        return sb.toString();
    }

    private static String quote(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    @Override
    public String toString() {
        return "postgres://" + user + "@" + host + ":" + port + "/" + database; // never the password
    }
}
