package dev.sluice.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

// Role: PostgreSQL's "md5" password scheme, for both sides of an AuthenticationMD5Password exchange.

/**
 * md5 password auth helpers (PostgreSQL's "md5" scheme: "md5" + md5hex(md5hex(password + user) + salt)).
 *
 * <p>Strings are hashed as UTF-8, which is what PostgreSQL does for a UTF-8 client encoding (it hashes
 * the raw bytes it receives). The username is the role name from the startup packet.
 */
public final class Md5Auth {

    private static final String PREFIX = "md5";

    private Md5Auth() {}

    /** The stored form: "md5" + md5hex(password + user), as in pg_authid with password_encryption=md5. */
    public static String hashPassword(String user, String password) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        return PREFIX + md5Hex(concat(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * What a client (or Sluice logging in to PostgreSQL) sends in the PasswordMessage after
     * AuthenticationMD5Password: works from a Plain or Md5 secret, since the first hashing round is
     * exactly what an Md5 secret already holds. A SCRAM verifier cannot produce it
     * ({@link IllegalArgumentException}): the proxy must not offer md5 for such users.
     */
    public static String clientResponse(String user, StoredSecret secret, byte[] salt4) {
        Objects.requireNonNull(salt4, "salt");
        if (salt4.length != 4) {
            throw new IllegalArgumentException("md5 salt must be 4 bytes, got " + salt4.length);
        }
        String inner = innerHash(user, secret);
        // The salt is applied to the hex text of the inner hash (without its "md5" prefix), not to its bytes.
        byte[] hexText = inner.substring(PREFIX.length()).getBytes(StandardCharsets.US_ASCII);
        return PREFIX + md5Hex(concat(hexText, salt4));
    }

    /**
     * Server side: does the client's PasswordMessage match the secret for this salt? A null or
     * differently-shaped response is simply false; a SCRAM secret is an {@link IllegalArgumentException}
     * (md5 cannot be verified against it, as in {@link #clientResponse}).
     */
    public static boolean verify(String user, StoredSecret secret, byte[] salt4, String response) {
        String expected = clientResponse(user, secret, salt4);
        if (response == null) {
            return false;
        }
        return MessageDigest.isEqual(
                expected.getBytes(StandardCharsets.UTF_8), response.getBytes(StandardCharsets.UTF_8));
    }

    private static String innerHash(String user, StoredSecret secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret instanceof StoredSecret.Plain plain) {
            return hashPassword(user, plain.password());
        }
        if (secret instanceof StoredSecret.Md5 md5) {
            return md5.hash();
        }
        throw new IllegalArgumentException("md5 authentication is impossible with a SCRAM secret; use SCRAM-SHA-256");
    }

    private static String md5Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 unavailable", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
