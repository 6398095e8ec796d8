package dev.sluice.config;

import java.util.List;

// One PostgreSQL server whose connection budget Sluice reads, and the login it reads it with.
/**
 * max_connections is per server, not per database, so every [databases] entry with
 * max_db_connections = auto that points at the same host and port shares one budget and one monitor.
 *
 * @param host      as written in [databases] (always a TCP host: Unix sockets are refused for auto)
 * @param dbname    the database the monitor connects to (pg_stat_activity shows every database's sessions)
 * @param password  null when none is known (trust, or the server does not ask)
 * @param databases the [databases] names sharing this budget, in file order
 * @param loginFrom where user and password come from, for messages ("budget_user", "user= of [databases] x")
 */
public record BudgetTarget(String host, int port, String dbname, String user, String password,
        List<String> databases, String loginFrom) {

    public BudgetTarget {
        databases = List.copyOf(databases);
    }

    /** "host:port", how logs and the console name this server. */
    public String server() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** Without the password: records print every component, and this one ends up in logs. */
    @Override
    public String toString() {
        return "BudgetTarget[" + server() + "/" + dbname + " as " + user + (password == null ? "" : " (password set)")
                + " from " + loginFrom + ", databases " + databases + "]";
    }
}
