package dev.sluice.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.regex.Pattern;

// Role: the value type for a user's stored password, in any of the three forms PostgreSQL and PgBouncer keep.

/**
 * A password as stored in userlist.txt / pg_authid: plain text, "md5"+32 hex, or
 * "SCRAM-SHA-256$&lt;iter&gt;:&lt;b64 salt&gt;$&lt;b64 StoredKey&gt;:&lt;b64 ServerKey&gt;".
 *
 * <p>{@code toString()} of every variant is redacted, because records would otherwise print the
 * secret into any log line that mentions a user's configuration.
 */
public sealed interface StoredSecret permits StoredSecret.Plain, StoredSecret.Md5, StoredSecret.Scram {

    /**
     * Detects the kind the way PostgreSQL's get_password_type() does: "md5" followed by exactly 32
     * lowercase hex digits is an md5 hash, a "SCRAM-SHA-256$" prefix is a SCRAM secret, anything
     * else is a plain-text password.
     *
     * <p>One deliberate difference: PostgreSQL silently treats a malformed SCRAM string as plain
     * text, which would turn a corrupted userlist.txt entry into a guessable password. Here it is an
     * {@link IllegalArgumentException} whose message names the broken part (never the secret).
     */
    static StoredSecret parse(String text) {
        Objects.requireNonNull(text, "secret text");
        if (text.startsWith(Scram.PREFIX)) {
            return Scram.parse(text);
        }
        if (Md5.FORMAT.matcher(text).matches()) {
            return new Md5(text);
        }
        return new Plain(text);
    }

    /** Secrets are compared without an early exit, so timing does not reveal how much of a guess was right. */
    private static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** A clear-text password (userlist.txt can hold these; pg_authid never does since PostgreSQL 10). */
    record Plain(String password) implements StoredSecret {
        public Plain {
            Objects.requireNonNull(password, "password");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Plain p && constantTimeEquals(password, p.password);
        }

        @Override
        public int hashCode() {
            return password.hashCode();
        }

        @Override
        public String toString() {
            return "Plain[<redacted>]";
        }
    }

    /** "md5" + md5hex(password + username): password-equivalent for md5 auth, so also redacted. */
    record Md5(String hash /* "md5..." */) implements StoredSecret {
        static final Pattern FORMAT = Pattern.compile("md5[0-9a-f]{32}");

        public Md5 {
            Objects.requireNonNull(hash, "hash");
            if (!FORMAT.matcher(hash).matches()) {
                throw new IllegalArgumentException("md5 secret must be \"md5\" followed by 32 lowercase hex digits");
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Md5 m && constantTimeEquals(hash, m.hash);
        }

        @Override
        public int hashCode() {
            return hash.hashCode();
        }

        @Override
        public String toString() {
            return "Md5[<redacted>]";
        }
    }

    /**
     * A SCRAM-SHA-256 verifier (RFC 5803 layout, as PostgreSQL stores it). Arrays are copied in and
     * out so nobody can mutate a secret that is shared between logins.
     */
    record Scram(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) implements StoredSecret {
        static final String PREFIX = "SCRAM-SHA-256$";

        public Scram {
            if (iterations < 1) {
                throw new IllegalArgumentException("SCRAM iteration count must be positive, got " + iterations);
            }
            Objects.requireNonNull(salt, "salt");
            Objects.requireNonNull(storedKey, "storedKey");
            Objects.requireNonNull(serverKey, "serverKey");
            if (salt.length == 0) {
                throw new IllegalArgumentException("SCRAM salt must not be empty");
            }
            if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
                throw new IllegalArgumentException("SCRAM-SHA-256 StoredKey and ServerKey must be 32 bytes each");
            }
            salt = salt.clone();
            storedKey = storedKey.clone();
            serverKey = serverKey.clone();
        }

        /** Derives the verifier PostgreSQL would store for this password, salt and iteration count. */
        public static Scram fromPassword(String password, byte[] salt, int iterations) {
            Objects.requireNonNull(password, "password");
            byte[] salted = ScramCrypto.saltedPassword(password, salt, iterations);
            byte[] storedKey = ScramCrypto.sha256(ScramCrypto.clientKey(salted));
            byte[] serverKey = ScramCrypto.serverKey(salted);
            return new Scram(iterations, salt, storedKey, serverKey);
        }

        /** Like {@link #fromPassword(String, byte[], int)} with a fresh salt and PostgreSQL's defaults (16 bytes, 4096). */
        public static Scram fromPassword(String password, SecureRandom random) {
            byte[] salt = new byte[ScramCrypto.DEFAULT_SALT_LENGTH];
            random.nextBytes(salt);
            return fromPassword(password, salt, ScramCrypto.DEFAULT_ITERATIONS);
        }

        /** The pg_authid.rolpassword / userlist.txt text form. */
        public String encode() {
            Base64.Encoder b64 = Base64.getEncoder();
            return PREFIX + iterations + ":" + b64.encodeToString(salt) + "$"
                    + b64.encodeToString(storedKey) + ":" + b64.encodeToString(serverKey);
        }

        static Scram parse(String text) {
            String body = text.substring(PREFIX.length());
            int dollar = body.indexOf('$');
            if (dollar < 0) {
                throw malformed("expected \"<iterations>:<salt>$<StoredKey>:<ServerKey>\" after \"SCRAM-SHA-256$\"");
            }
            String[] iterSalt = body.substring(0, dollar).split(":", -1);
            String[] keys = body.substring(dollar + 1).split(":", -1);
            if (iterSalt.length != 2) {
                throw malformed("expected \"<iterations>:<salt>\" before the second '$'");
            }
            if (keys.length != 2) {
                throw malformed("expected \"<StoredKey>:<ServerKey>\" after the second '$'");
            }
            int iterations;
            try {
                iterations = Integer.parseInt(iterSalt[0]);
            } catch (NumberFormatException e) {
                throw malformed("iteration count is not a number");
            }
            if (iterations < 1) {
                throw malformed("iteration count must be positive");
            }
            byte[] salt = decode(iterSalt[1], "salt");
            byte[] storedKey = decode(keys[0], "StoredKey");
            byte[] serverKey = decode(keys[1], "ServerKey");
            if (salt.length == 0) {
                throw malformed("salt is empty");
            }
            if (storedKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
                throw malformed("StoredKey and ServerKey must decode to 32 bytes each");
            }
            return new Scram(iterations, salt, storedKey, serverKey);
        }

        private static byte[] decode(String b64, String what) {
            try {
                return Base64.getDecoder().decode(b64);
            } catch (IllegalArgumentException e) {
                throw malformed(what + " is not valid base64");
            }
        }

        private static IllegalArgumentException malformed(String why) {
            return new IllegalArgumentException("malformed SCRAM-SHA-256 secret: " + why);
        }

        @Override
        public byte[] salt() {
            return salt.clone();
        }

        @Override
        public byte[] storedKey() {
            return storedKey.clone();
        }

        @Override
        public byte[] serverKey() {
            return serverKey.clone();
        }

        @Override
        public boolean equals(Object o) {
            // Constant-time on the keys: equality of secrets should not leak where they differ.
            return o instanceof Scram s
                    && iterations == s.iterations
                    && Arrays.equals(salt, s.salt)
                    && MessageDigest.isEqual(storedKey, s.storedKey)
                    && MessageDigest.isEqual(serverKey, s.serverKey);
        }

        @Override
        public int hashCode() {
            // Only non-secret parts: a hash of the keys would be a (weak) leak of them.
            return 31 * iterations + Arrays.hashCode(salt);
        }

        @Override
        public String toString() {
            return "Scram[iterations=" + iterations + ", salt=" + Base64.getEncoder().encodeToString(salt)
                    + ", keys=<redacted>]";
        }
    }
}
