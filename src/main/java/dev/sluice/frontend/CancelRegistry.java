package dev.sluice.frontend;

import dev.sluice.protocol.BackendMessages.BackendKeyData;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backend keys Sluice hands its clients (its own, not the servers': a client's server changes with
 * every transaction). A CancelRequest is matched here, in constant time, to the session it belongs to.
 */
public final class CancelRegistry {
    private final ConcurrentHashMap<Integer, Entry> byPid = new ConcurrentHashMap<>();
    /**
     * A DRBG (NIST SP 800-90A) seeded once from the system: the platform default (NativePRNG) reads
     * /dev/urandom under a global lock on every call, a system call per client login.
     */
    private final SecureRandom random = newRandom();

    private static SecureRandom newRandom() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (java.security.NoSuchAlgorithmException e) {
            return new SecureRandom(); // every Java 9+ runtime has DRBG; keep working if one does not
        }
    }

    private record Entry(int secret, ClientSession session) {}

    /** Issues a fresh key for {@code session}; process ids are unique among live sessions. */
    public BackendKeyData register(ClientSession session) {
        while (true) {
            int pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            int secret = random.nextInt();
            if (byPid.putIfAbsent(pid, new Entry(secret, session)) == null) {
                return new BackendKeyData(pid, secret);
            }
        }
    }

    /**
     * Issues a key with the given (real server) process id and a fresh secret; replaces whatever an
     * earlier owner of that server had registered.
     */
    public BackendKeyData registerWithPid(ClientSession session, int pid) {
        int secret = random.nextInt();
        byPid.put(pid, new Entry(secret, session));
        return new BackendKeyData(pid, secret);
    }

    public void unregister(BackendKeyData key, ClientSession session) {
        if (key != null) {
            byPid.computeIfPresent(key.processId(), (k, e) -> e.session() == session ? null : e);
        }
    }

    /** The session whose key this is, or null; the secret is compared in constant time. */
    public ClientSession find(int pid, int secret) {
        Entry e = byPid.get(pid);
        if (e == null) {
            return null;
        }
        byte[] a = java.nio.ByteBuffer.allocate(4).putInt(e.secret()).array();
        byte[] b = java.nio.ByteBuffer.allocate(4).putInt(secret).array();
        return MessageDigest.isEqual(a, b) ? e.session() : null;
    }
}
