package dev.sluice.frontend;

import dev.sluice.auth.AuthException;
import dev.sluice.auth.Md5Auth;
import dev.sluice.auth.ScramServerExchange;
import dev.sluice.auth.StoredSecret;
import dev.sluice.config.AuthType;
import dev.sluice.protocol.BackendMessages.Authentication;
import dev.sluice.protocol.ErrorResponse;
import dev.sluice.protocol.MessageType;
import dev.sluice.protocol.PgMessage;
import dev.sluice.protocol.SqlState;
import dev.sluice.protocol.Wire;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;

/**
 * One client's password conversation, by auth_type and the kind of secret auth_file holds for the user:
 * cleartext, md5 (falls back to SCRAM when only a SCRAM secret is known, as PgBouncer does) or
 * SCRAM-SHA-256. Unknown users get the same challenge and the same failure as a wrong password.
 */
final class ClientAuthenticator {
    /** What to do after a message: send something, succeed, or fail with an error. */
    sealed interface Step {
        record Send(PgMessage message) implements Step {}

        /** Authenticated; {@code finalMessage} (SASLFinal) goes out before AuthenticationOk when not null. */
        record Success(PgMessage finalMessage, byte[] scramClientKey, byte[] scramServerKey) implements Step {}

        record Failure(ErrorResponse error) implements Step {}
    }

    private enum Phase { CLEARTEXT, MD5, SASL_INITIAL, SASL_CONTINUE, DONE }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String user;
    private final StoredSecret secret; // null: unknown user, fail after the exchange
    private Phase phase;
    private byte[] md5Salt;
    private ScramServerExchange scram;

    private ClientAuthenticator(String user, StoredSecret secret) {
        this.user = user;
        this.secret = secret;
    }

    /** Starts authentication; the first step is either a challenge to send or an immediate outcome. */
    static Step start(AuthType type, String user, String secretText, ClientAuthenticator[] holder) {
        StoredSecret secret;
        try {
            secret = secretText == null ? null : StoredSecret.parse(secretText);
        } catch (IllegalArgumentException e) {
            return new Step.Failure(ErrorResponse.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "sluice: the auth_file entry for user \"" + user + "\" is not a valid password or secret"));
        }
        ClientAuthenticator a = new ClientAuthenticator(user, secret);
        holder[0] = a;
        switch (type) {
            case TRUST, ANY:
                return new Step.Success(null, null, null);
            case PLAIN:
                a.phase = Phase.CLEARTEXT;
                return new Step.Send(Authentication.cleartextPassword());
            case MD5:
                if (secret instanceof StoredSecret.Scram) {
                    return a.startScram();
                }
                a.phase = Phase.MD5;
                a.md5Salt = new byte[4];
                RANDOM.nextBytes(a.md5Salt);
                return new Step.Send(Authentication.md5Password(a.md5Salt));
            case SCRAM_SHA_256:
                if (secret instanceof StoredSecret.Md5) {
                    return new Step.Failure(ErrorResponse.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                            "sluice: auth_type is scram-sha-256 but auth_file holds an md5 hash for user \"" + user
                                    + "\"", "Store a plain password or a SCRAM secret for this user in auth_file."));
                }
                return a.startScram();
            default:
                return new Step.Failure(ErrorResponse.fatal(SqlState.FEATURE_NOT_SUPPORTED,
                        "sluice: auth_type " + type + " is not supported"));
        }
    }

    private Step startScram() {
        phase = Phase.SASL_INITIAL;
        StoredSecret forScram = secret != null ? secret
                : StoredSecret.Scram.fromPassword(randomPassword(), randomSalt(), 4096); // unknown user: fail later
        scram = new ScramServerExchange(user, forScram, RANDOM);
        return new Step.Send(Authentication.sasl(List.of(ScramServerExchange.MECHANISM)));
    }

    /** Handles one 'p' message from the client. */
    Step onMessage(ByteBuf frame) {
        byte type = frame.getByte(frame.readerIndex());
        if (type != MessageType.PASSWORD_MESSAGE) {
            return new Step.Failure(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION,
                    "expected password response, got message type " + MessageType.frontendName(type)));
        }
        ByteBuf body = frame.duplicate().skipBytes(5);
        try {
            switch (phase) {
                case CLEARTEXT: {
                    String given = Wire.readCString(body);
                    return verifyCleartext(given) ? success() : wrongPassword();
                }
                case MD5: {
                    String given = Wire.readCString(body);
                    boolean ok = secret != null && !(secret instanceof StoredSecret.Scram)
                            && Md5Auth.verify(user, secret, md5Salt, given);
                    return ok ? success() : wrongPassword();
                }
                case SASL_INITIAL: {
                    String mechanism = Wire.readCString(body);
                    // The length is the client's word: checked against the bytes really there before use.
                    int len = body.readableBytes() >= 4 ? body.readInt() : -1;
                    if (len < 0 || len > body.readableBytes()) {
                        return new Step.Failure(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION,
                                "malformed SASLInitialResponse"));
                    }
                    byte[] data = new byte[len];
                    body.readBytes(data);
                    byte[] serverFirst = scram.serverFirst(mechanism, data);
                    phase = Phase.SASL_CONTINUE;
                    return new Step.Send(Authentication.saslContinue(serverFirst));
                }
                case SASL_CONTINUE: {
                    byte[] data = new byte[body.readableBytes()];
                    body.readBytes(data);
                    byte[] serverFinal;
                    try {
                        serverFinal = scram.serverFinal(data);
                    } catch (AuthException e) {
                        return wrongPassword();
                    }
                    if (secret == null) {
                        return wrongPassword();
                    }
                    phase = Phase.DONE;
                    byte[] clientKey = scram.clientKey().orElse(null);
                    byte[] serverKey = secret instanceof StoredSecret.Scram s ? s.serverKey() : null;
                    return new Step.Success(Authentication.saslFinal(serverFinal), clientKey, serverKey);
                }
                default:
                    return new Step.Failure(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION,
                            "unexpected password message"));
            }
        } catch (AuthException e) {
            return new Step.Failure(ErrorResponse.fatal(SqlState.INVALID_PASSWORD, e.getMessage()));
        } catch (dev.sluice.protocol.ProtocolException e) {
            // Only decoding problems are the client's fault; anything else is a bug and goes to exceptionCaught.
            return new Step.Failure(ErrorResponse.fatal(SqlState.PROTOCOL_VIOLATION,
                    "malformed authentication message: " + e.getMessage()));
        }
    }

    private boolean verifyCleartext(String given) {
        if (secret instanceof StoredSecret.Plain p) {
            return MessageDigest.isEqual(p.password().getBytes(StandardCharsets.UTF_8),
                    given.getBytes(StandardCharsets.UTF_8));
        }
        if (secret instanceof StoredSecret.Md5 m) {
            return MessageDigest.isEqual(m.hash().getBytes(StandardCharsets.UTF_8),
                    Md5Auth.hashPassword(user, given).getBytes(StandardCharsets.UTF_8));
        }
        if (secret instanceof StoredSecret.Scram s) {
            StoredSecret.Scram computed = StoredSecret.Scram.fromPassword(given, s.salt(), s.iterations());
            return MessageDigest.isEqual(computed.storedKey(), s.storedKey());
        }
        return false;
    }

    private Step success() {
        phase = Phase.DONE;
        return new Step.Success(null, null, null);
    }

    private Step wrongPassword() {
        phase = Phase.DONE;
        return new Step.Failure(ErrorResponse.fatal(SqlState.INVALID_PASSWORD,
                "password authentication failed for user \"" + user + "\""));
    }

    private static String randomPassword() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return java.util.Base64.getEncoder().encodeToString(b);
    }

    private static byte[] randomSalt() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }
}
