package dev.sluice.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

// Role: the server side of one SCRAM-SHA-256 login (RFC 5802/7677 as PostgreSQL speaks it), Sluice verifying a client.

/**
 * Server side of one SCRAM-SHA-256 exchange with a client (Sluice authenticating a client).
 * Not thread-safe; one per login.
 *
 * <p>Protocol mapping: the proxy sends AuthenticationSASL listing only {@link #MECHANISM}, passes the
 * SASLInitialResponse's mechanism and data to {@link #serverFirst} and sends the result as
 * AuthenticationSASLContinue, then passes the SASLResponse data to {@link #serverFinal} and sends
 * the result as AuthenticationSASLFinal followed by AuthenticationOk. Any {@link AuthException} ends
 * the login with an ErrorResponse built from its message and {@link AuthException#sqlState()}.
 * (If a client ever sends a SASLInitialResponse without initial data, the proxy should answer with an
 * empty AuthenticationSASLContinue and feed the following SASLResponse to {@link #serverFirst}, as
 * PostgreSQL does; libpq and pgjdbc always include it.)
 *
 * <p>Differences from PostgreSQL, deliberately: channel binding is never offered, so "p=" is refused
 * and gs2 flag 'y' ("client could bind but thinks the server cannot") is accepted unconditionally,
 * which is correct because it is true. The username inside the SCRAM message is ignored, as in
 * PostgreSQL: the user is the one from the startup packet.
 *
 * <p>Cost: a Plain secret needs one PBKDF2 run (4096 HMACs) in the constructor; a Scram secret needs
 * none. Each exchange needs a handful of HMACs.
 */
public final class ScramServerExchange {

    public static final String MECHANISM = "SCRAM-SHA-256";
    static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    /** PostgreSQL's SCRAM_RAW_NONCE_LEN: 18 random bytes, base64 (24 printable characters). */
    private static final int SERVER_NONCE_BYTES = 18;

    private enum State { AWAITING_CLIENT_FIRST, AWAITING_CLIENT_FINAL, FINISHED }

    private final String user;
    private final StoredSecret.Scram secret;
    /** True for a mock exchange (unknown user, unusable secret): looks normal on the wire, always fails. */
    private final boolean doomed;
    private final String serverNonce;

    private State state = State.AWAITING_CLIENT_FIRST;
    private String gs2Header;
    private String clientFirstBare;
    private String clientNonce;
    private String serverFirst;
    private byte[] clientKey;

    /**
     * @param secret Plain or Scram. A Plain secret gets a fresh random salt for this login. An empty
     *     Plain password can never log in (PostgreSQL refuses those too); the exchange then runs as a
     *     mock and fails at the proof. An Md5 secret is an {@link IllegalArgumentException}: md5
     *     hashes cannot drive SCRAM, so the proxy must offer md5 authentication for such users.
     */
    public ScramServerExchange(String user, StoredSecret secret, SecureRandom random) {
        this(user, secret, random, newNonce(random));
    }

    /** For tests: a fixed server nonce (RFC 7677's example uses one). */
    ScramServerExchange(String user, StoredSecret secret, SecureRandom random, String serverNonce) {
        this.user = Objects.requireNonNull(user, "user");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(random, "random");
        this.serverNonce = Objects.requireNonNull(serverNonce, "serverNonce");
        if (secret instanceof StoredSecret.Scram scram) {
            this.secret = scram;
            this.doomed = false;
        } else if (secret instanceof StoredSecret.Plain plain && !plain.password().isEmpty()) {
            this.secret = StoredSecret.Scram.fromPassword(plain.password(), random);
            this.doomed = false;
        } else if (secret instanceof StoredSecret.Plain) {
            this.secret = randomSecret(newSalt(random), random);
            this.doomed = true;
        } else {
            throw new IllegalArgumentException(
                    "an md5 secret cannot be used for SCRAM authentication; offer md5 authentication instead");
        }
    }

    private ScramServerExchange(String user, StoredSecret.Scram mockSecret, String serverNonce) {
        this.user = user;
        this.secret = mockSecret;
        this.doomed = true;
        this.serverNonce = serverNonce;
    }

    /**
     * An exchange for a user that does not exist (or may not log in), indistinguishable on the wire
     * from a real one so that probing cannot tell which user names exist: like PostgreSQL's mock
     * authentication, the salt is derived from the user name and a per-process secret
     * ({@code mockKey}, random bytes the proxy generates once at startup), so repeated attempts see
     * the same salt. It always ends with "password authentication failed".
     */
    public static ScramServerExchange forUnknownUser(String user, byte[] mockKey, SecureRandom random) {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(mockKey, "mockKey");
        byte[] digest = ScramCrypto.sha256(concat(user.getBytes(StandardCharsets.UTF_8), mockKey));
        byte[] salt = Arrays.copyOf(digest, ScramCrypto.DEFAULT_SALT_LENGTH);
        return new ScramServerExchange(user, randomSecret(salt, random), newNonce(random));
    }

    /**
     * Handles the client-first-message (SASLInitialResponse) and returns the server-first-message
     * for AuthenticationSASLContinue.
     */
    public byte[] serverFirst(String mechanism, byte[] clientFirstMessage) throws AuthException {
        if (state != State.AWAITING_CLIENT_FIRST) {
            throw new IllegalStateException("serverFirst() already called");
        }
        state = State.FINISHED; // any failure below ends the exchange
        if (MECHANISM_PLUS.equals(mechanism)) {
            throw AuthException.protocol("SASL mechanism " + MECHANISM_PLUS
                    + " (channel binding) is not supported by this server; use " + MECHANISM);
        }
        if (!MECHANISM.equals(mechanism)) {
            throw AuthException.protocol("client selected an invalid SASL authentication mechanism");
        }
        if (clientFirstMessage == null || clientFirstMessage.length == 0) {
            throw malformed("empty client-first-message");
        }
        // ISO-8859-1 maps bytes 1:1 to chars, so the text re-encodes to exactly the client's bytes for
        // the AuthMessage even if the (ignored) user name is not valid UTF-8; all syntax is ASCII.
        String msg = new String(clientFirstMessage, StandardCharsets.ISO_8859_1);
        parseGs2Header(msg);
        parseClientFirstBare(msg.substring(gs2Header.length()));

        serverFirst = "r=" + clientNonce + serverNonce
                + ",s=" + Base64.getEncoder().encodeToString(secret.salt())
                + ",i=" + secret.iterations();
        state = State.AWAITING_CLIENT_FINAL;
        return serverFirst.getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * Handles the client-final-message (SASLResponse): checks the channel-binding echo, the nonce and
     * the proof, and returns the server-final-message ("v=" + ServerSignature) for
     * AuthenticationSASLFinal. A wrong password is an {@link AuthException} with SQLSTATE 28P01.
     */
    public byte[] serverFinal(byte[] clientFinalMessage) throws AuthException {
        if (state != State.AWAITING_CLIENT_FINAL) {
            throw new IllegalStateException("serverFinal() needs a successful serverFirst() and may only be called once");
        }
        state = State.FINISHED;
        if (clientFinalMessage == null || clientFinalMessage.length == 0) {
            throw malformed("empty client-final-message");
        }
        String msg = new String(clientFinalMessage, StandardCharsets.ISO_8859_1);
        // The proof is the last attribute and base64 has no commas, so the last ",p=" starts it.
        int proofAt = msg.lastIndexOf(",p=");
        if (proofAt < 0) {
            throw malformed("client-final-message has no proof");
        }
        String withoutProof = msg.substring(0, proofAt);
        String[] attrs = withoutProof.split(",", -1);
        if (attrs.length < 2 || !attrs[0].startsWith("c=") || !attrs[1].startsWith("r=")) {
            throw malformed("client-final-message must start with channel binding and nonce");
        }
        for (int i = 2; i < attrs.length; i++) {
            requireAttribute(attrs[i]); // optional extensions: allowed by RFC 5802, ignored as PostgreSQL does
        }

        // Without channel binding the client must echo exactly the gs2 header it sent first.
        byte[] cbind = decodeBase64(attrs[0].substring(2), "channel binding");
        if (!MessageDigest.isEqual(cbind, gs2Header.getBytes(StandardCharsets.ISO_8859_1))) {
            throw AuthException.protocol("SCRAM channel binding check failed");
        }
        if (!attrs[1].substring(2).equals(clientNonce + serverNonce)) {
            throw AuthException.protocol("invalid SCRAM response: nonce does not match");
        }
        byte[] proof = decodeBase64(msg.substring(proofAt + 3), "proof");
        if (proof.length != ScramCrypto.KEY_LENGTH) {
            throw malformed("proof has the wrong length");
        }

        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] storedKey = secret.storedKey();
        byte[] clientSignature = ScramCrypto.hmac(storedKey, authMessage);
        // ClientProof = ClientKey XOR ClientSignature, so XOR-ing again recovers the client's ClientKey;
        // it is genuine exactly when its hash is the StoredKey.
        byte[] candidateKey = ScramCrypto.xor(proof, clientSignature);
        boolean valid = MessageDigest.isEqual(ScramCrypto.sha256(candidateKey), storedKey);
        if (!valid || doomed) {
            throw new AuthException("password authentication failed for user \"" + user + "\"");
        }
        clientKey = candidateKey;
        byte[] serverSignature = ScramCrypto.hmac(secret.serverKey(), authMessage);
        return ("v=" + Base64.getEncoder().encodeToString(serverSignature)).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * After a successful {@link #serverFinal}: the ClientKey recovered from the proof. Together with
     * the Scram secret's ServerKey it lets Sluice log in to PostgreSQL as this user (see
     * {@link ScramClientExchange#ScramClientExchange(String, StoredSecret.Scram, byte[])}) without
     * ever knowing the password. Empty before success or after failure.
     */
    public Optional<byte[]> clientKey() {
        return Optional.ofNullable(clientKey).map(byte[]::clone);
    }

    /** gs2-header = gs2-cbind-flag "," [authzid] "," (RFC 5802 section 7). */
    private void parseGs2Header(String msg) throws AuthException {
        char flag = msg.charAt(0);
        if (flag == 'p') {
            throw AuthException.protocol(
                    "SCRAM channel binding was requested by the client but is not supported by this server");
        }
        if (flag != 'n' && flag != 'y') {
            throw malformed("unexpected channel-binding flag");
        }
        if (msg.length() < 3 || msg.charAt(1) != ',') {
            throw malformed("malformed GS2 header");
        }
        if (msg.startsWith("a=", 2)) {
            // PostgreSQL refuses this too: a SCRAM login cannot switch to another role.
            throw AuthException.protocol("client uses authorization identity, but it is not supported");
        }
        if (msg.charAt(2) != ',') {
            throw malformed("malformed GS2 header");
        }
        gs2Header = msg.substring(0, 3);
    }

    /** client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]. */
    private void parseClientFirstBare(String bare) throws AuthException {
        String[] attrs = bare.split(",", -1);
        if (attrs[0].startsWith("m=")) {
            throw AuthException.protocol("client requires an unsupported SCRAM extension");
        }
        if (attrs.length < 2 || !attrs[0].startsWith("n=") || !attrs[1].startsWith("r=")) {
            throw malformed("client-first-message must contain a user name and a nonce");
        }
        String nonce = attrs[1].substring(2);
        if (nonce.isEmpty() || !nonce.chars().allMatch(c -> c >= 0x21 && c <= 0x7e && c != ',')) {
            throw malformed("client nonce must be non-empty printable ASCII");
        }
        for (int i = 2; i < attrs.length; i++) {
            requireAttribute(attrs[i]);
        }
        clientFirstBare = bare;
        clientNonce = nonce;
    }

    private static void requireAttribute(String attr) throws AuthException {
        if (attr.length() < 2 || attr.charAt(1) != '=' || !Character.isLetter(attr.charAt(0))) {
            throw malformed("attribute expected");
        }
    }

    private static byte[] decodeBase64(String text, String what) throws AuthException {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw malformed(what + " is not valid base64");
        }
    }

    private static AuthException malformed(String detail) {
        return AuthException.protocol("malformed SCRAM message: " + detail);
    }

    private static String newNonce(SecureRandom random) {
        byte[] raw = new byte[SERVER_NONCE_BYTES];
        random.nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw); // base64 is printable ASCII without ','
    }

    private static byte[] newSalt(SecureRandom random) {
        byte[] salt = new byte[ScramCrypto.DEFAULT_SALT_LENGTH];
        random.nextBytes(salt);
        return salt;
    }

    /** A verifier no password can match (random keys), for mock exchanges. */
    private static StoredSecret.Scram randomSecret(byte[] salt, SecureRandom random) {
        byte[] storedKey = new byte[ScramCrypto.KEY_LENGTH];
        byte[] serverKey = new byte[ScramCrypto.KEY_LENGTH];
        random.nextBytes(storedKey);
        random.nextBytes(serverKey);
        return new StoredSecret.Scram(ScramCrypto.DEFAULT_ITERATIONS, salt, storedKey, serverKey);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
