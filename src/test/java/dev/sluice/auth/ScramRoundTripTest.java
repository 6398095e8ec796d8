package dev.sluice.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

// Role: ScramClientExchange against ScramServerExchange, plus hand-made client messages for the edge cases.
class ScramRoundTripTest {

    private final SecureRandom random = new SecureRandom();
    private final StoredSecret.Scram aliceSecret = StoredSecret.Scram.fromPassword("s3cret", random);

    /** Runs a full exchange; returns the server's recovered ClientKey. */
    private static byte[] login(ScramClientExchange client, ScramServerExchange server) throws AuthException {
        byte[] serverFirst = server.serverFirst(client.mechanism(), client.clientFirst());
        byte[] serverFinal = server.serverFinal(client.clientFinal(serverFirst));
        client.verifyServerFinal(serverFinal);
        return server.clientKey().orElseThrow();
    }

    private static void assertWrongPassword(ThrowingCallable call) {
        assertThatThrownBy(call)
                .isInstanceOf(AuthException.class)
                .hasMessage("password authentication failed for user \"alice\"")
                .extracting(e -> ((AuthException) e).sqlState()).isEqualTo(AuthException.INVALID_PASSWORD);
    }

    private static void assertProtocolError(ThrowingCallable call, String messagePart) {
        assertThatThrownBy(call)
                .isInstanceOf(AuthException.class)
                .hasMessageContaining(messagePart)
                .extracting(e -> ((AuthException) e).sqlState()).isEqualTo(AuthException.PROTOCOL_VIOLATION);
    }

    @Test
    void rightPasswordAgainstScramSecret() throws AuthException {
        byte[] clientKey = login(new ScramClientExchange("alice", "s3cret"), new ScramServerExchange("alice", aliceSecret, random));
        assertThat(ScramCrypto.sha256(clientKey)).isEqualTo(aliceSecret.storedKey());
    }

    @Test
    void rightPasswordAgainstPlainSecret() throws AuthException {
        login(new ScramClientExchange("alice", "s3cret"), new ScramServerExchange("alice", new StoredSecret.Plain("s3cret"), random));
    }

    @Test
    void wrongPasswordIsRefusedForScramAndPlain() throws AuthException {
        for (StoredSecret secret : new StoredSecret[] {aliceSecret, new StoredSecret.Plain("s3cret")}) {
            ScramClientExchange client = new ScramClientExchange("alice", "s3creT");
            ScramServerExchange server = new ScramServerExchange("alice", secret, random);
            byte[] clientFinal = client.clientFinal(server.serverFirst(client.mechanism(), client.clientFirst()));
            assertWrongPassword(() -> server.serverFinal(clientFinal));
            assertThat(server.clientKey()).isEmpty();
        }
    }

    @Test
    void saslPrepMakesEquivalentUnicodePasswordsMatch() throws AuthException {
        // ROMAN NUMERAL NINE normalizes (NFKC) to "IX", and SOFT HYPHEN maps to nothing.
        login(new ScramClientExchange("alice", "\u2168"), new ScramServerExchange("alice", new StoredSecret.Plain("IX"), random));
        login(new ScramClientExchange("alice", "I\u00ADX"),
                new ScramServerExchange("alice", StoredSecret.Scram.fromPassword("IX", random), random));
        login(new ScramClientExchange("alice", "pässwörd"), new ScramServerExchange("alice", new StoredSecret.Plain("pässwörd"), random));
        // A prohibited character makes SASLprep fail; both sides then use the raw password.
        login(new ScramClientExchange("alice", "a\u0007b"), new ScramServerExchange("alice", new StoredSecret.Plain("a\u0007b"), random));
        ScramClientExchange client = new ScramClientExchange("alice", "ab");
        ScramServerExchange server = new ScramServerExchange("alice", new StoredSecret.Plain("a\u0007b"), random);
        byte[] clientFinal = client.clientFinal(server.serverFirst(client.mechanism(), client.clientFirst()));
        assertWrongPassword(() -> server.serverFinal(clientFinal));
    }

    @Test
    void passwordMadeOnlyOfMappedToNothingCharacters() throws AuthException {
        // Server side follows PostgreSQL (raw password); the library-based client refuses it up front.
        HandClient hand = new HandClient("\u00AD\u034F", "n,,");
        ScramServerExchange server = new ScramServerExchange("alice", new StoredSecret.Plain("\u00AD\u034F"), random);
        server.serverFinal(hand.clientFinal(server.serverFirst("SCRAM-SHA-256", hand.clientFirst())));
        assertThatThrownBy(() -> new ScramClientExchange("alice", "\u00AD\u034F"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("library");
    }

    @Test
    void zeroWidthSpaceIsASpaceOnBothSidesAsInPostgres() throws AuthException {
        // The library alone would drop U+200B; PostgreSQL maps it to a space, and so must our client.
        login(new ScramClientExchange("alice", "a\u200Bb"), new ScramServerExchange("alice", new StoredSecret.Plain("a b"), random));
    }

    @Test
    void tamperedNonceIsRefused() throws AuthException {
        ScramClientExchange client = new ScramClientExchange("alice", "s3cret");
        ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
        byte[] serverFirst = server.serverFirst(client.mechanism(), client.clientFirst());
        String clientFinal = new String(client.clientFinal(serverFirst), UTF_8);
        // Replace the last nonce character with a different printable one.
        int r = clientFinal.indexOf(",r=");
        int end = clientFinal.indexOf(',', r + 1);
        char last = clientFinal.charAt(end - 1);
        String tampered = clientFinal.substring(0, end - 1) + (last == 'A' ? 'B' : 'A') + clientFinal.substring(end);

        assertProtocolError(() -> server.serverFinal(tampered.getBytes(UTF_8)), "nonce does not match");
        assertThat(server.clientKey()).isEmpty();
    }

    @Test
    void clientRefusesServerNonceThatDoesNotExtendItsOwn() {
        ScramClientExchange client = new ScramClientExchange("alice", "s3cret");
        client.clientFirst();
        assertProtocolError(() -> client.clientFinal("r=someoneelse,s=c2FsdA==,i=4096".getBytes(UTF_8)), "server-first");
    }

    @Test
    void channelBindingRequestsAreRefused() throws AuthException {
        ScramServerExchange plus = new ScramServerExchange("alice", aliceSecret, random);
        assertProtocolError(() -> plus.serverFirst("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abc".getBytes(UTF_8)),
                "SCRAM-SHA-256-PLUS");
        ScramServerExchange p = new ScramServerExchange("alice", aliceSecret, random);
        assertProtocolError(() -> p.serverFirst("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abc".getBytes(UTF_8)),
                "channel binding");
        ScramServerExchange other = new ScramServerExchange("alice", aliceSecret, random);
        assertProtocolError(() -> other.serverFirst("SCRAM-SHA-1", "n,,n=,r=abc".getBytes(UTF_8)), "invalid SASL authentication mechanism");
    }

    @Test
    void handMadeLibpqStyleClientWithEmptyUserNameAndFlagN() throws AuthException {
        HandClient hand = new HandClient("s3cret", "n,,");
        ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
        byte[] serverFinal = server.serverFinal(hand.clientFinal(server.serverFirst("SCRAM-SHA-256", hand.clientFirst())));
        assertThat(new String(serverFinal, UTF_8)).isEqualTo("v=" + hand.expectedServerSignature(aliceSecret));
    }

    @Test
    void flagYIsAcceptedBecauseWeNeverOfferChannelBinding() throws AuthException {
        HandClient hand = new HandClient("s3cret", "y,,");
        ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
        byte[] serverFinal = server.serverFinal(hand.clientFinal(server.serverFirst("SCRAM-SHA-256", hand.clientFirst())));
        assertThat(new String(serverFinal, UTF_8)).isEqualTo("v=" + hand.expectedServerSignature(aliceSecret));
    }

    @Test
    void channelBindingEchoMustMatchTheFirstHeader() throws AuthException {
        HandClient hand = new HandClient("s3cret", "y,,");
        hand.cbindEchoOverride = "n,,"; // claims a different gs2 header than in client-first
        ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
        byte[] clientFinal = hand.clientFinal(server.serverFirst("SCRAM-SHA-256", hand.clientFirst()));
        assertProtocolError(() -> server.serverFinal(clientFinal), "channel binding check failed");
    }

    @Test
    void malformedClientMessagesAreProtocolViolations() {
        String[] badFirsts = {
            "", "x,,n=,r=abc", "n", "n,a=bob,n=,r=abc", "n,,m=ext,n=,r=abc", "n,,n=", "n,,n=,r=", "n,,n=,q=abc",
            "n,,n=,r=ab,c", "n,,r=abc",
        };
        for (String first : badFirsts) {
            ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
            assertThatThrownBy(() -> server.serverFirst("SCRAM-SHA-256", first.getBytes(UTF_8)))
                    .as(first)
                    .isInstanceOf(AuthException.class)
                    .extracting(e -> ((AuthException) e).sqlState()).isEqualTo(AuthException.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void malformedClientFinalMessagesAreProtocolViolations() throws AuthException {
        String[] badFinals = {"", "c=biws,r=x", "r=x,c=biws,p=AAAA", "c=biws,p=AAAA", "c=!!!!,r=NONCE,p=AAAA", "c=biws,r=NONCE,p=AAAA"};
        for (String bad : badFinals) {
            ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random, "SRV");
            server.serverFirst("SCRAM-SHA-256", "n,,n=,r=CLI".getBytes(UTF_8));
            String msg = bad.replace("NONCE", "CLISRV");
            assertThatThrownBy(() -> server.serverFinal(msg.getBytes(UTF_8)))
                    .as(bad)
                    .isInstanceOf(AuthException.class)
                    .extracting(e -> ((AuthException) e).sqlState()).isEqualTo(AuthException.PROTOCOL_VIOLATION);
        }
    }

    @Test
    void forgedServerSignatureIsDetectedByTheClient() throws AuthException {
        ScramClientExchange client = new ScramClientExchange("alice", "s3cret");
        // An impostor that knows the salt but not the ServerKey (e.g. one holding another verifier).
        StoredSecret.Scram impostor = StoredSecret.Scram.fromPassword("other", aliceSecret.salt(), aliceSecret.iterations());
        ScramServerExchange real = new ScramServerExchange("alice", aliceSecret, random);
        byte[] serverFirst = real.serverFirst(client.mechanism(), client.clientFirst());
        byte[] clientFinal = client.clientFinal(serverFirst);
        real.serverFinal(clientFinal);
        String forged = "v=" + Base64.getEncoder().encodeToString(ScramCrypto.hmac(impostor.serverKey(), "anything"));
        assertThatThrownBy(() -> client.verifyServerFinal(forged.getBytes(UTF_8)))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("server signature");
    }

    @Test
    void passthroughWithRecoveredClientKey() throws AuthException {
        // Client logs in to Sluice, Sluice logs in to the "database" with the recovered key only.
        byte[] clientKey = login(new ScramClientExchange("alice", "s3cret"), new ScramServerExchange("alice", aliceSecret, random));
        login(new ScramClientExchange("alice", clientKey, aliceSecret.serverKey()), new ScramServerExchange("alice", aliceSecret, random));
        login(new ScramClientExchange("alice", aliceSecret, clientKey), new ScramServerExchange("alice", aliceSecret, random));
    }

    @Test
    void passthroughFailsWhenTheServerSecretHasAnotherSalt() throws AuthException {
        byte[] clientKey = login(new ScramClientExchange("alice", "s3cret"), new ScramServerExchange("alice", aliceSecret, random));
        // Same password, re-hashed with a new salt: the ClientKey no longer fits.
        StoredSecret.Scram rehashed = StoredSecret.Scram.fromPassword("s3cret", random);

        ScramClientExchange keysOnly = new ScramClientExchange("alice", clientKey, aliceSecret.serverKey());
        ScramServerExchange server = new ScramServerExchange("alice", rehashed, random);
        byte[] clientFinal = keysOnly.clientFinal(server.serverFirst(keysOnly.mechanism(), keysOnly.clientFirst()));
        assertWrongPassword(() -> server.serverFinal(clientFinal));

        ScramClientExchange withSecret = new ScramClientExchange("alice", aliceSecret, clientKey);
        ScramServerExchange server2 = new ScramServerExchange("alice", rehashed, random);
        byte[] serverFirst = server2.serverFirst(withSecret.mechanism(), withSecret.clientFirst());
        assertThatThrownBy(() -> withSecret.clientFinal(serverFirst))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("different salt or iteration count");
    }

    @Test
    void passthroughRefusesAKeyFromAnotherSecret() {
        byte[] foreignKey = ScramCrypto.clientKey(ScramCrypto.saltedPassword("other", aliceSecret.salt(), 4096));
        assertThatThrownBy(() -> new ScramClientExchange("alice", aliceSecret, foreignKey))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unknownUserMockLooksNormalButAlwaysFails() throws AuthException {
        byte[] mockKey = new byte[32];
        random.nextBytes(mockKey);
        ScramClientExchange client = new ScramClientExchange("alice", "s3cret");
        ScramServerExchange server = ScramServerExchange.forUnknownUser("alice", mockKey, random);
        String serverFirst = new String(server.serverFirst(client.mechanism(), client.clientFirst()), UTF_8);
        assertThat(serverFirst).matches("r=[^,]+,s=[A-Za-z0-9+/=]{24},i=4096");
        byte[] clientFinal = client.clientFinal(serverFirst.getBytes(UTF_8));
        assertWrongPassword(() -> server.serverFinal(clientFinal));

        // Stable salt per user name, so repeated probes cannot tell a mock from a real verifier.
        String again = new String(ScramServerExchange.forUnknownUser("alice", mockKey, random)
                .serverFirst("SCRAM-SHA-256", "n,,n=,r=x".getBytes(UTF_8)), UTF_8);
        String bob = new String(ScramServerExchange.forUnknownUser("bob", mockKey, random)
                .serverFirst("SCRAM-SHA-256", "n,,n=,r=x".getBytes(UTF_8)), UTF_8);
        assertThat(salt(again)).isEqualTo(salt(serverFirst));
        assertThat(salt(bob)).isNotEqualTo(salt(serverFirst));
    }

    @Test
    void emptyPlainPasswordNeverLogsIn() throws AuthException {
        HandClient hand = new HandClient("x", "n,,");
        ScramServerExchange server = new ScramServerExchange("alice", new StoredSecret.Plain(""), random);
        byte[] clientFinal = hand.clientFinal(server.serverFirst("SCRAM-SHA-256", hand.clientFirst()));
        assertWrongPassword(() -> server.serverFinal(clientFinal));
    }

    @Test
    void md5SecretCannotDriveScram() {
        assertThatThrownBy(() -> new ScramServerExchange("alice", new StoredSecret.Md5(Md5AuthTest.ALICE_HASH), random))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("md5");
    }

    @Test
    void outOfOrderCallsAreProgrammingErrors() throws AuthException {
        ScramServerExchange server = new ScramServerExchange("alice", aliceSecret, random);
        assertThatThrownBy(() -> server.serverFinal("c=biws".getBytes(UTF_8))).isInstanceOf(IllegalStateException.class);
        ScramClientExchange client = new ScramClientExchange("alice", "s3cret");
        assertThatThrownBy(() -> client.clientFinal("r=x".getBytes(UTF_8))).isInstanceOf(IllegalStateException.class);
        assertThat(client.clientFirst()).isEqualTo(client.clientFirst()); // idempotent: same nonce
        assertThatThrownBy(() -> client.verifyServerFinal("v=x".getBytes(UTF_8))).isInstanceOf(IllegalStateException.class);
    }

    private static String salt(String serverFirst) {
        return serverFirst.replaceAll(".*,s=([^,]*),.*", "$1");
    }

    /** A minimal independent SCRAM client built from the RFC 5802 formulas, for messages the library will not produce. */
    private static final class HandClient {
        private final String password;
        private final String gs2Header;
        private final String clientFirstBare = "n=,r=handmadeNonce123";
        String cbindEchoOverride;
        private String authMessage;

        HandClient(String password, String gs2Header) {
            this.password = password;
            this.gs2Header = gs2Header;
        }

        byte[] clientFirst() {
            return (gs2Header + clientFirstBare).getBytes(UTF_8);
        }

        byte[] clientFinal(byte[] serverFirstBytes) {
            String serverFirst = new String(serverFirstBytes, UTF_8);
            String[] parts = serverFirst.split(",");
            String nonce = parts[0].substring(2);
            byte[] salt = Base64.getDecoder().decode(parts[1].substring(2));
            int iterations = Integer.parseInt(parts[2].substring(2));
            String echo = cbindEchoOverride != null ? cbindEchoOverride : gs2Header;
            String withoutProof = "c=" + Base64.getEncoder().encodeToString(echo.getBytes(UTF_8)) + ",r=" + nonce;
            authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
            byte[] clientKey = ScramCrypto.clientKey(ScramCrypto.saltedPassword(password, salt, iterations));
            byte[] proof = ScramCrypto.xor(clientKey, ScramCrypto.hmac(ScramCrypto.sha256(clientKey), authMessage));
            return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(UTF_8);
        }

        String expectedServerSignature(StoredSecret.Scram secret) {
            return Base64.getEncoder().encodeToString(ScramCrypto.hmac(secret.serverKey(), authMessage));
        }
    }
}
