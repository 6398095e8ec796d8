package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

// Role: the md5 scheme against values computed independently (Python hashlib); real PostgreSQL is in RealPostgresAuthTest.
class Md5AuthTest {

    static final byte[] SALT = {1, 2, 3, 4};
    static final String ALICE_HASH = "md54a0a68b43b6cd5cf266fa02f196e2371"; // md5("secret" + "alice")
    static final String ALICE_RESPONSE = "md598a0412b9c31436fc53776e863350083";

    @Test
    void hashPasswordIsMd5OfPasswordThenUser() {
        assertThat(Md5Auth.hashPassword("alice", "secret")).isEqualTo(ALICE_HASH);
        assertThat(Md5Auth.hashPassword("jörg", "pässwörd")).isEqualTo("md517e6006041561eba22e799139448cd69");
    }

    @Test
    void clientResponseFromPlainAndFromMd5SecretAreTheSame() {
        assertThat(Md5Auth.clientResponse("alice", new StoredSecret.Plain("secret"), SALT)).isEqualTo(ALICE_RESPONSE);
        assertThat(Md5Auth.clientResponse("alice", new StoredSecret.Md5(ALICE_HASH), SALT)).isEqualTo(ALICE_RESPONSE);
        byte[] highBitSalt = {(byte) 0xff, 0x00, 0x7f, (byte) 0x80};
        assertThat(Md5Auth.clientResponse("jörg", new StoredSecret.Plain("pässwörd"), highBitSalt))
                .isEqualTo("md538d193a9f16bf4a0b488ae75c1ed43d5");
    }

    @Test
    void verifyAcceptsOnlyTheRightResponse() {
        StoredSecret plain = new StoredSecret.Plain("secret");
        StoredSecret md5 = new StoredSecret.Md5(ALICE_HASH);
        assertThat(Md5Auth.verify("alice", plain, SALT, ALICE_RESPONSE)).isTrue();
        assertThat(Md5Auth.verify("alice", md5, SALT, ALICE_RESPONSE)).isTrue();

        assertThat(Md5Auth.verify("alice", new StoredSecret.Plain("Secret"), SALT, ALICE_RESPONSE)).isFalse();
        assertThat(Md5Auth.verify("bob", plain, SALT, ALICE_RESPONSE)).isFalse();           // user is salted in
        assertThat(Md5Auth.verify("alice", plain, new byte[] {1, 2, 3, 5}, ALICE_RESPONSE)).isFalse();
        assertThat(Md5Auth.verify("alice", md5, SALT, ALICE_HASH)).isFalse();               // the unsalted hash is no answer
        assertThat(Md5Auth.verify("alice", md5, SALT, ALICE_RESPONSE.toUpperCase())).isFalse();
        assertThat(Md5Auth.verify("alice", md5, SALT, "")).isFalse();
        assertThat(Md5Auth.verify("alice", md5, SALT, null)).isFalse();
    }

    @Test
    void scramSecretsAndBadSaltsAreProgrammingErrors() {
        StoredSecret scram = ScramRfc7677Test.rfcSecret();
        assertThatThrownBy(() -> Md5Auth.clientResponse("user", scram, SALT)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Auth.verify("user", scram, SALT, ALICE_RESPONSE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Md5Auth.clientResponse("alice", new StoredSecret.Plain("secret"), new byte[3]))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
