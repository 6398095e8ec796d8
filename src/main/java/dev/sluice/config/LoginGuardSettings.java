package dev.sluice.config;

import java.time.Duration;

/**
 * Sluice-only limits on the login phase, against slow and abusive clients (none of these is in PgBouncer).
 * All can be changed with SET and RELOAD; they apply to the next connection or login.
 *
 * @param maxStartupConnections connections still in startup or authentication at once (max_startup_connections);
 *                              one more is refused with 53300 before anything is read from it. 0 = no cap
 * @param authFailureDelay      how long a failed login waits before it is answered and closed
 *                              (auth_failure_delay), like PostgreSQL's auth_delay; the event loop is not blocked
 * @param authFailureLimit      failed logins from one address within authFailureWindow after which that address
 *                              is refused until the oldest of them leaves the window (auth_failure_limit). 0 = off
 * @param authFailureWindow     the window of auth_failure_limit (auth_failure_window)
 */
public record LoginGuardSettings(int maxStartupConnections, Duration authFailureDelay, int authFailureLimit,
        Duration authFailureWindow) {

    /**
     * 256 logins in flight is far above what a healthy fleet needs (a login takes milliseconds) yet keeps a
     * flood of half-open connections from tying up memory and CPU; 1 s and 20 failures a minute make password
     * guessing slow without hurting a client that mistyped once.
     */
    public static final LoginGuardSettings DEFAULT =
            new LoginGuardSettings(256, Duration.ofSeconds(1), 20, Duration.ofSeconds(60));

    LoginGuardSettings withMaxStartupConnections(int n) {
        return new LoginGuardSettings(n, authFailureDelay, authFailureLimit, authFailureWindow);
    }

    LoginGuardSettings withAuthFailureDelay(Duration d) {
        return new LoginGuardSettings(maxStartupConnections, d, authFailureLimit, authFailureWindow);
    }

    LoginGuardSettings withAuthFailureLimit(int n) {
        return new LoginGuardSettings(maxStartupConnections, authFailureDelay, n, authFailureWindow);
    }

    LoginGuardSettings withAuthFailureWindow(Duration d) {
        return new LoginGuardSettings(maxStartupConnections, authFailureDelay, authFailureLimit, d);
    }
}
