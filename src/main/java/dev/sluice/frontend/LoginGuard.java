package dev.sluice.frontend;

import dev.sluice.config.LoginGuardSettings;
import dev.sluice.pool.DisconnectReason;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.SqlState;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Guards the login phase, shared by every event loop: how many connections may be in startup or
 * authentication at once (max_startup_connections, at most half of them from one address), and which addresses failed to log in too often lately
 * (auth_failure_limit within auth_failure_window). A refused connection costs one small ErrorResponse: nothing
 * is read from it, no password is checked, no server is touched, so a flood cannot slow down other clients.
 * Unix-socket clients have no address and are never blocked by the failure limit.
 */
public final class LoginGuard {
    /** Addresses tracked at most; past it new addresses are not tracked (the limit fails open, memory does not grow). */
    static final int MAX_TRACKED_ADDRESSES = 100_000;

    /** Why a connection is refused before its login: the error to send and the disconnect reason to log. */
    public record Refusal(ErrorResponse error, DisconnectReason reason) {}

    private final Supplier<LoginGuardSettings> settings;
    private final AtomicInteger inStartup = new AtomicInteger();
    /**
     * Connections in startup per address: one address may hold at most half of max_startup_connections, so a
     * flood from one host (a stalled pool, a scanner) leaves room for everyone else's logins.
     */
    private final Map<InetAddress, Integer> startingFrom = new ConcurrentHashMap<>();
    /** Per address: the times (System.nanoTime) of its recent failed logins, at most auth_failure_limit of them. */
    private final Map<InetAddress, ArrayDeque<Long>> failures = new ConcurrentHashMap<>();

    public LoginGuard(Supplier<LoginGuardSettings> settings) {
        this.settings = settings;
    }

    /**
     * Counts a new connection as in startup, or says why it is refused (and then it is not counted).
     * A connection admitted here must call {@link #startupEnded} exactly once.
     */
    public Refusal admit(SocketAddress remote, long nowNanos) {
        LoginGuardSettings s = settings.get();
        InetAddress addr = remote instanceof InetSocketAddress i ? i.getAddress() : null;
        long retryNanos = addr == null ? 0 : blockedFor(addr, s, nowNanos);
        if (retryNanos > 0) {
            long seconds = Math.max(1, (retryNanos + 999_999_999L) / 1_000_000_000L);
            return new Refusal(ErrorResponse.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "sluice: too many failed logins from " + addr.getHostAddress() + " (auth_failure_limit="
                            + s.authFailureLimit() + " within " + seconds(s.authFailureWindow().toNanos())
                            + "); try again in " + seconds + "s",
                    "Check the password this client uses; logins from this address are refused until then."),
                    DisconnectReason.AUTH_FAILURE_LIMIT);
        }
        int max = s.maxStartupConnections();
        // Counted even without a cap, so that turning it on with SET finds true counts.
        int total = inStartup.incrementAndGet();
        int fromAddr = addr == null ? 0 : startingFrom.merge(addr, 1, Integer::sum);
        if (max > 0 && (total > max || fromAddr > Math.max(1, max / 2))) {
            undo(addr);
            String from = total > max ? "" : " from " + addr.getHostAddress() + " (one address may hold half)";
            return new Refusal(ErrorResponse.fatal(SqlState.TOO_MANY_CONNECTIONS,
                    "sluice: too many connections in startup" + from + " (max_startup_connections=" + max + ")",
                    "Connections that have not finished logging in are capped; retry in a moment, or find the "
                            + "clients that connect without logging in (slow or stalled clients, port scanners)."),
                    DisconnectReason.MAX_STARTUP_CONNECTIONS);
        }
        return null;
    }

    /** The connection from {@code remote} admitted by {@link #admit} finished its login (or closed). */
    public void startupEnded(SocketAddress remote) {
        undo(remote instanceof InetSocketAddress i ? i.getAddress() : null);
    }

    private void undo(InetAddress addr) {
        inStartup.decrementAndGet();
        if (addr != null) {
            startingFrom.computeIfPresent(addr, (a, n) -> n <= 1 ? null : n - 1);
        }
    }

    /** Connections in startup or authentication now (SHOW/metrics, tests). */
    public int inStartup() {
        return inStartup.get();
    }

    /** A login from {@code remote} failed (wrong password, unknown user, malformed authentication). */
    public void authFailed(SocketAddress remote, long nowNanos) {
        LoginGuardSettings s = settings.get();
        if (s.authFailureLimit() <= 0 || !(remote instanceof InetSocketAddress i) || i.getAddress() == null) {
            return;
        }
        InetAddress addr = i.getAddress();
        ArrayDeque<Long> times = failures.get(addr);
        if (times == null) {
            if (failures.size() >= MAX_TRACKED_ADDRESSES) {
                expire(nowNanos);
                if (failures.size() >= MAX_TRACKED_ADDRESSES) {
                    return;
                }
            }
            times = failures.computeIfAbsent(addr, a -> new ArrayDeque<>());
        }
        synchronized (times) {
            times.addLast(nowNanos);
            while (times.size() > s.authFailureLimit()) {
                times.removeFirst();
            }
        }
    }

    /** Forgets failures older than the window, so the map holds only addresses that failed lately. */
    public void expire(long nowNanos) {
        long window = settings.get().authFailureWindow().toNanos();
        failures.entrySet().removeIf(e -> {
            ArrayDeque<Long> times = e.getValue();
            synchronized (times) {
                while (!times.isEmpty() && nowNanos - times.peekFirst() >= window) {
                    times.removeFirst();
                }
                return times.isEmpty();
            }
        });
    }

    /** Nanoseconds until {@code addr} may log in again; 0 when it may now. */
    private long blockedFor(InetAddress addr, LoginGuardSettings s, long nowNanos) {
        int limit = s.authFailureLimit();
        ArrayDeque<Long> times = limit > 0 ? failures.get(addr) : null;
        if (times == null) {
            return 0;
        }
        long window = s.authFailureWindow().toNanos();
        synchronized (times) {
            while (!times.isEmpty() && nowNanos - times.peekFirst() >= window) {
                times.removeFirst();
            }
            if (times.size() < limit) {
                return 0;
            }
            // Blocked until the oldest failure that still counts leaves the window.
            return times.peekFirst() + window - nowNanos;
        }
    }

    private static String seconds(long nanos) {
        long ms = nanos / 1_000_000;
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
