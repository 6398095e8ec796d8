package dev.sluice.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

// Role: the SCRAM-SHA-256 primitives of RFC 5802 section 3 (Hi, HMAC, H, XOR) with PostgreSQL's SASLprep applied to passwords.
final class ScramCrypto {

    /** Length of SHA-256 output: every key, signature and proof is this long. */
    static final int KEY_LENGTH = 32;
    /** PostgreSQL's defaults (scram_iterations, SCRAM_DEFAULT_SALT_LEN) for secrets we mint ourselves. */
    static final int DEFAULT_ITERATIONS = 4096;
    static final int DEFAULT_SALT_LENGTH = 16;

    private ScramCrypto() {}

    /** SaltedPassword := Hi(Normalize(password), salt, i). */
    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        byte[] pw = SaslPrep.prepare(password).getBytes(StandardCharsets.UTF_8);
        if (pw.length == 0) {
            // HMAC keys cannot be empty in javax.crypto; PostgreSQL refuses empty passwords as well.
            throw new IllegalArgumentException("empty password cannot be used for SCRAM");
        }
        return hi(pw, salt, iterations);
    }

    /** Hi() from RFC 5802: PBKDF2 with HMAC-SHA-256 and a single output block. */
    static byte[] hi(byte[] password, byte[] salt, int iterations) {
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count must be positive");
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(password, "HmacSHA256"));
            mac.update(salt);
            byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1}); // INT(1): first (only) block
            byte[] result = u.clone();
            for (int n = 1; n < iterations; n++) {
                u = mac.doFinal(u);
                for (int k = 0; k < result.length; k++) {
                    result[k] ^= u[k];
                }
            }
            return result;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] hmac(byte[] key, String data) {
        return hmac(key, data.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    static byte[] clientKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Client Key");
    }

    static byte[] serverKey(byte[] saltedPassword) {
        return hmac(saltedPassword, "Server Key");
    }

    static byte[] xor(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("length mismatch");
        }
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }
}
