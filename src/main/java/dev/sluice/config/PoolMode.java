package dev.sluice.config;

import java.util.Locale;
import java.util.Optional;

// When a server connection goes back to its pool: the three modes PgBouncer knows.
public enum PoolMode {
    /** Server connection is released when the client disconnects. */
    SESSION,
    /** Server connection is released when a transaction ends. */
    TRANSACTION,
    /** Server connection is released after every statement. Recognised so it can be refused clearly. */
    STATEMENT;

    /** The word used for this mode in pgbouncer.ini. */
    public String configWord() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "session", "transaction" or "statement", ignoring case and surrounding blanks. */
    public static Optional<PoolMode> fromConfigWord(String word) {
        if (word == null) {
            return Optional.empty();
        }
        for (PoolMode mode : values()) {
            if (mode.configWord().equalsIgnoreCase(word.strip())) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }
}
