package dev.sluice.auth;

// Role: the one failure type of this package: a login that must be refused, with a client-safe message.

/**
 * Thrown when a client's credentials or SASL messages are wrong; message safe to show to the client
 * (never contains secrets).
 *
 * <p>Also carries the SQLSTATE PostgreSQL itself would report, so the proxy can build the
 * ErrorResponse without re-classifying: {@code 28P01} (invalid_password) for a wrong password,
 * {@code 08P01} (protocol_violation) for malformed or unsupported SASL messages.
 */
public final class AuthException extends Exception {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE for a wrong password (PostgreSQL's ERRCODE_INVALID_PASSWORD). */
    public static final String INVALID_PASSWORD = "28P01";
    /** SQLSTATE for a malformed/unsupported authentication message (ERRCODE_PROTOCOL_VIOLATION). */
    public static final String PROTOCOL_VIOLATION = "08P01";

    private final String sqlState;

    /** A wrong-credentials failure (SQLSTATE 28P01). */
    public AuthException(String msg) {
        this(msg, INVALID_PASSWORD);
    }

    public AuthException(String msg, String sqlState) {
        super(msg);
        this.sqlState = sqlState;
    }

    /** The SQLSTATE PostgreSQL would send for this failure. */
    public String sqlState() {
        return sqlState;
    }

    static AuthException protocol(String msg) {
        return new AuthException(msg, PROTOCOL_VIOLATION);
    }
}
