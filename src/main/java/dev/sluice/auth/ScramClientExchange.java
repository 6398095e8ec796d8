package dev.sluice.auth;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramInvalidServerSignatureException;
import com.ongres.scram.common.exception.ScramParseException;
import com.ongres.scram.common.exception.ScramServerErrorException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

// Role: the client side of one SCRAM-SHA-256 login, Sluice authenticating itself to PostgreSQL.

/**
 * Client side of SCRAM-SHA-256 (Sluice logging in to PostgreSQL as a user). Not thread-safe; one per
 * server login. The message mechanics come from the ongres scram-client library (the one pgjdbc
 * uses); this class adds PostgreSQL's conventions and maps failures to {@link AuthException}.
 *
 * <p>Protocol mapping: on AuthenticationSASL send SASLInitialResponse({@link #mechanism()},
 * {@link #clientFirst()}); on AuthenticationSASLContinue send SASLResponse({@link #clientFinal});
 * on AuthenticationSASLFinal call {@link #verifyServerFinal} before trusting the AuthenticationOk.
 */
public final class ScramClientExchange {

    /**
     * The user name inside client-first-message. PostgreSQL ignores it (the role comes from the
     * startup packet); the library refuses an empty one (libpq's choice), so we send "*" as pgjdbc
     * does, which also avoids SASLprep failures on role names that are not valid SASL names.
     */
    private static final String SASL_USER = "*";

    private enum State { NEW, FIRST_SENT, FINAL_SENT, FINISHED }

    private final String user;
    private final ScramClient client;
    /** Set when logging in with keys taken from a known verifier: the server must present the same salt. */
    private final StoredSecret.Scram expectedSecret;
    private State state = State.NEW;
    private byte[] clientFirst;

    /** From a plain password (SASLprep'd as PostgreSQL does, see SaslPrep; an empty password is an IllegalArgumentException). */
    public ScramClientExchange(String user, String password) {
        this(user, null, SASL_USER, null, credentials(password));
    }

    /**
     * From keys (passthrough of a client's SCRAM login, PgBouncer-style): no password is needed,
     * because ClientKey produces the proof and ServerKey checks the server's signature. This only
     * works if the server's secret is the one the keys came from (same salt/iterations, hence the
     * same StoredKey); otherwise PostgreSQL rejects the proof. Prefer
     * {@link #ScramClientExchange(String, StoredSecret.Scram, byte[])}, which detects a mismatching
     * server secret itself and says so.
     */
    public ScramClientExchange(String user, byte[] clientKey, byte[] serverKey) {
        this(user, null, SASL_USER, null, keys(clientKey, serverKey));
    }

    /**
     * Passthrough with the verifier the keys belong to: {@code clientKey} is what
     * {@link ScramServerExchange#clientKey()} recovered when the client logged in to Sluice against
     * {@code secret}. Refuses a key that does not belong to the secret (IllegalArgumentException),
     * and in {@link #clientFinal} refuses a server whose salt or iteration count differ (its secret
     * was set separately, so the key cannot be valid there).
     */
    public ScramClientExchange(String user, StoredSecret.Scram secret, byte[] clientKey) {
        this(user, checkKey(secret, clientKey), SASL_USER, null, keys(clientKey, secret.serverKey()));
    }

    /** For tests: fixed client nonce and SCRAM user name (RFC 7677's example uses "user"). */
    ScramClientExchange(String user, String password, String nonce, String saslUser) {
        this(user, null, saslUser, nonce, credentials(password));
    }

    private ScramClientExchange(String user, StoredSecret.Scram expectedSecret, String saslUser, String nonce,
            Function<ScramClient.PasswordBuildStage, ScramClient.FinalBuildStage> credentials) {
        this.user = Objects.requireNonNull(user, "user");
        this.expectedSecret = expectedSecret;
        ScramClient.FinalBuildStage builder = credentials.apply(ScramClient.builder()
                        .advertisedMechanisms(List.of(ScramServerExchange.MECHANISM))
                        .username(saslUser))
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION);
        if (nonce != null) {
            builder = builder.nonceSupplier(() -> nonce);
        }
        // Only SCRAM-SHA-256 is advertised and no channel-binding data is given, so the library
        // uses gs2 flag 'n' ("n,,"), which PostgreSQL accepts on any connection.
        this.client = builder.build();
    }

    public String mechanism() {
        return ScramServerExchange.MECHANISM;
    }

    /** SASLInitialResponse payload (client-first-message); the same bytes on every call. */
    public byte[] clientFirst() {
        if (state == State.NEW) {
            clientFirst = client.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
            state = State.FIRST_SENT;
        }
        return clientFirst.clone();
    }

    /** Takes the AuthenticationSASLContinue payload (server-first-message), returns the SASLResponse payload. */
    public byte[] clientFinal(byte[] serverFirst) throws AuthException {
        if (state != State.FIRST_SENT) {
            throw new IllegalStateException("clientFinal() needs clientFirst() first and may only be called once");
        }
        state = State.FINISHED; // any failure ends the exchange
        Objects.requireNonNull(serverFirst, "serverFirst");
        com.ongres.scram.common.ServerFirstMessage parsed;
        try {
            parsed = client.serverFirstMessage(new String(serverFirst, StandardCharsets.UTF_8));
        } catch (ScramParseException | IllegalArgumentException e) {
            throw AuthException.protocol("invalid SCRAM server-first-message from server: " + e.getMessage());
        }
        if (expectedSecret != null) {
            byte[] salt;
            try {
                salt = Base64.getDecoder().decode(parsed.getSalt());
            } catch (IllegalArgumentException e) {
                throw AuthException.protocol("invalid SCRAM server-first-message from server: salt is not base64");
            }
            if (parsed.getIterationCount() != expectedSecret.iterations()
                    || !Arrays.equals(salt, expectedSecret.salt())) {
                throw new AuthException("cannot pass the SCRAM login of user \"" + user
                        + "\" through: the server's SCRAM secret has a different salt or iteration count"
                        + " than the one Sluice authenticated the client with");
            }
        }
        String clientFinal;
        try {
            clientFinal = client.clientFinalMessage().toString();
        } catch (IllegalArgumentException e) {
            // e.g. a password the library cannot use; never includes the password itself
            throw new AuthException("cannot compute SCRAM proof for user \"" + user + "\": " + e.getMessage());
        }
        state = State.FINAL_SENT;
        return clientFinal.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks AuthenticationSASLFinal's server signature: proves the server knows this user's
     * verifier, so Sluice is not being fooled by an impostor accepting any password.
     */
    public void verifyServerFinal(byte[] serverFinal) throws AuthException {
        if (state != State.FINAL_SENT) {
            throw new IllegalStateException("verifyServerFinal() needs a successful clientFinal() and may only be called once");
        }
        state = State.FINISHED;
        Objects.requireNonNull(serverFinal, "serverFinal");
        try {
            client.serverFinalMessage(new String(serverFinal, StandardCharsets.UTF_8));
        } catch (ScramInvalidServerSignatureException e) {
            throw new AuthException("SCRAM server signature for user \"" + user
                    + "\" is invalid: the server does not hold the expected SCRAM secret");
        } catch (ScramServerErrorException e) {
            throw new AuthException("server reported SCRAM error: " + e.getMessage());
        } catch (ScramParseException | IllegalArgumentException e) {
            throw AuthException.protocol("invalid SCRAM server-final-message from server: " + e.getMessage());
        }
    }

    private static Function<ScramClient.PasswordBuildStage, ScramClient.FinalBuildStage> credentials(String password) {
        Objects.requireNonNull(password, "password");
        if (password.isEmpty()) {
            throw new IllegalArgumentException("empty password cannot be used for SCRAM");
        }
        // The library applies its own SASLprep, which differs from PostgreSQL's in corner cases (see
        // SaslPrep). So we prepare the password PostgreSQL's way and hand the library the result,
        // which its SASLprep leaves unchanged; we check that instead of assuming it, so a password
        // the library would alter (or crash on: one made only of characters SASLprep drops) is
        // refused here, clearly, rather than failing mysteriously in the middle of a login.
        String prepared = SaslPrep.prepare(password);
        String libraryView;
        try {
            libraryView = new String(StringPreparation.POSTGRESQL_PREPARATION.normalize(prepared.toCharArray()));
        } catch (RuntimeException e) {
            libraryView = null;
        }
        if (!prepared.equals(libraryView)) {
            throw new IllegalArgumentException(
                    "password contains a character combination the SCRAM client library cannot handle like PostgreSQL");
        }
        return stage -> stage.password(prepared.toCharArray());
    }

    private static Function<ScramClient.PasswordBuildStage, ScramClient.FinalBuildStage> keys(
            byte[] clientKey, byte[] serverKey) {
        Objects.requireNonNull(clientKey, "clientKey");
        Objects.requireNonNull(serverKey, "serverKey");
        if (clientKey.length != ScramCrypto.KEY_LENGTH || serverKey.length != ScramCrypto.KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 ClientKey and ServerKey must be 32 bytes each");
        }
        byte[] ck = clientKey.clone();
        byte[] sk = serverKey.clone();
        return stage -> stage.clientAndServerKey(ck, sk);
    }

    private static StoredSecret.Scram checkKey(StoredSecret.Scram secret, byte[] clientKey) {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(clientKey, "clientKey");
        // StoredKey = H(ClientKey): a key that does not hash to it could never log in with this verifier.
        if (!MessageDigest.isEqual(ScramCrypto.sha256(clientKey), secret.storedKey())) {
            throw new IllegalArgumentException("the client key does not belong to this SCRAM secret");
        }
        return secret;
    }
}
