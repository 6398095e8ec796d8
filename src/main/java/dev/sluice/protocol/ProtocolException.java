package dev.sluice.protocol;

/** A peer broke the wire protocol (bad length, unknown startup code, truncated field); carries the SQLSTATE to answer with. */
public final class ProtocolException extends RuntimeException {
    private final String sqlState;

    public ProtocolException(String sqlState, String message) {
        super(message);
        this.sqlState = sqlState;
    }

    public ProtocolException(String message) {
        this(SqlState.PROTOCOL_VIOLATION, message);
    }

    public String sqlState() {
        return sqlState;
    }
}
