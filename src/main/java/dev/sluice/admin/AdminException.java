package dev.sluice.admin;

/** A console statement failed: sent to the admin client as an ERROR with this SQLSTATE; the session goes on. */
public final class AdminException extends Exception {
    private final String sqlState;

    public AdminException(String sqlState, String message) {
        super(message, null, false, false);
        this.sqlState = sqlState;
    }

    public String sqlState() {
        return sqlState;
    }
}
