package dev.sluice.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;

// Role: pins both SCRAM sides to the published SCRAM-SHA-256 example of RFC 7677 section 3.
class ScramRfc7677Test {

    static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    static final String SALT_B64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    static final String CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    static StoredSecret.Scram rfcSecret() {
        return StoredSecret.Scram.fromPassword("pencil", Base64.getDecoder().decode(SALT_B64), 4096);
    }

    @Test
    void clientSideProducesTheRfcMessages() throws AuthException {
        ScramClientExchange client = new ScramClientExchange("user", "pencil", CLIENT_NONCE, "user");

        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(new String(client.clientFirst(), US_ASCII)).isEqualTo(CLIENT_FIRST);
        assertThat(new String(client.clientFinal(SERVER_FIRST.getBytes(US_ASCII)), US_ASCII)).isEqualTo(CLIENT_FINAL);
        client.verifyServerFinal(SERVER_FINAL.getBytes(US_ASCII)); // must not throw
    }

    @Test
    void clientRejectsAServerSignatureOffByOneBit() throws AuthException {
        ScramClientExchange client = new ScramClientExchange("user", "pencil", CLIENT_NONCE, "user");
        client.clientFirst();
        client.clientFinal(SERVER_FIRST.getBytes(US_ASCII));
        byte[] sig = Base64.getDecoder().decode(SERVER_FINAL.substring(2));
        sig[0] ^= 1;
        byte[] forged = ("v=" + Base64.getEncoder().encodeToString(sig)).getBytes(US_ASCII);

        assertThatThrownBy(() -> client.verifyServerFinal(forged))
                .isInstanceOf(AuthException.class)
                .hasMessageContaining("server signature");
    }

    @Test
    void serverSideProducesTheRfcMessagesAndRecoversTheClientKey() throws AuthException {
        StoredSecret.Scram secret = rfcSecret();
        ScramServerExchange server = new ScramServerExchange("user", secret, new SecureRandom(), SERVER_NONCE);

        byte[] serverFirst = server.serverFirst("SCRAM-SHA-256", CLIENT_FIRST.getBytes(US_ASCII));
        assertThat(new String(serverFirst, US_ASCII)).isEqualTo(SERVER_FIRST);
        assertThat(server.clientKey()).isEmpty();

        byte[] serverFinal = server.serverFinal(CLIENT_FINAL.getBytes(US_ASCII));
        assertThat(new String(serverFinal, US_ASCII)).isEqualTo(SERVER_FINAL);

        // StoredKey = H(ClientKey), and ClientKey = HMAC(SaltedPassword, "Client Key").
        byte[] clientKey = server.clientKey().orElseThrow();
        assertThat(ScramCrypto.sha256(clientKey)).isEqualTo(secret.storedKey());
        byte[] salted = ScramCrypto.saltedPassword("pencil", Base64.getDecoder().decode(SALT_B64), 4096);
        assertThat(clientKey).isEqualTo(ScramCrypto.clientKey(salted));
    }

    @Test
    void serverRejectsTheRfcProofForAnotherPassword() throws AuthException {
        StoredSecret.Scram other = StoredSecret.Scram.fromPassword("pencils", Base64.getDecoder().decode(SALT_B64), 4096);
        ScramServerExchange server = new ScramServerExchange("user", other, new SecureRandom(), SERVER_NONCE);
        server.serverFirst("SCRAM-SHA-256", CLIENT_FIRST.getBytes(US_ASCII));

        assertThatThrownBy(() -> server.serverFinal(CLIENT_FINAL.getBytes(US_ASCII)))
                .isInstanceOf(AuthException.class)
                .hasMessage("password authentication failed for user \"user\"")
                .extracting(e -> ((AuthException) e).sqlState()).isEqualTo("28P01");
        assertThat(server.clientKey()).isEmpty();
    }
}
