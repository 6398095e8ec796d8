package dev.sluice.frontend;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Proxy-wide names for protocol-level prepared statements in transaction mode. Clients name statements
 * as they like ("S_1" in every pgjdbc connection); Sluice prepares each distinct statement (query text +
 * parameter types) under one server-side name, so clients that send the same statement share it on
 * every server connection, as PgBouncer 1.21+ does.
 */
public final class PreparedStatementRegistry {
    /** One distinct statement: its server-side name and the Parse body after the name (query, types). */
    public record Statement(String serverName, byte[] parseBody) {}

    private final ConcurrentHashMap<String, Statement> byBody = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    /** The shared statement for this Parse body (query cstring + parameter type OIDs). */
    public Statement intern(byte[] parseBody) {
        // ISO-8859-1 maps bytes 1:1 to chars: an exact, cheap key for arbitrary bytes.
        String key = new String(parseBody, StandardCharsets.ISO_8859_1);
        Statement s = byBody.get(key);
        if (s != null) {
            return s;
        }
        return byBody.computeIfAbsent(key, k -> new Statement("sluice_" + ids.incrementAndGet(), parseBody));
    }

    public int size() {
        return byBody.size();
    }
}
