package dev.sluice.backend;

import dev.sluice.protocol.ErrorResponse;

/** Opening a server connection failed; {@link #error()} is what waiting clients are told. */
public final class ServerLoginException extends Exception {
    private final ErrorResponse error;

    public ServerLoginException(ErrorResponse error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    public ErrorResponse error() {
        return error;
    }
}
