package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

// Role: kind detection, encoding and validation of stored secrets (real PostgreSQL output is in RealPostgresAuthTest).
class StoredSecretTest {

    /** The RFC 7677 example verifier, encoded the way PostgreSQL stores it. */
    static final String RFC_SCRAM = ScramRfc7677Test.rfcSecret().encode();

    @Test
    void detectsPlainMd5AndScram() {
        assertThat(StoredSecret.parse("hunter2")).isEqualTo(new StoredSecret.Plain("hunter2"));
        assertThat(StoredSecret.parse("md54a0a68b43b6cd5cf266fa02f196e2371"))
                .isEqualTo(new StoredSecret.Md5("md54a0a68b43b6cd5cf266fa02f196e2371"));
        assertThat(StoredSecret.parse(RFC_SCRAM)).isInstanceOf(StoredSecret.Scram.class);
    }

    @Test
    void md5NeedsExactlyThirtyTwoLowercaseHexDigitsLikePostgres() {
        // Anything else is a plain password in PostgreSQL's get_password_type(), so here too.
        assertThat(StoredSecret.parse("md54A0A68B43B6CD5CF266FA02F196E2371")).isInstanceOf(StoredSecret.Plain.class);
        assertThat(StoredSecret.parse("md54a0a68b43b6cd5cf266fa02f196e237")).isInstanceOf(StoredSecret.Plain.class);
        assertThat(StoredSecret.parse("md54a0a68b43b6cd5cf266fa02f196e23711")).isInstanceOf(StoredSecret.Plain.class);
        assertThat(StoredSecret.parse("md5")).isInstanceOf(StoredSecret.Plain.class);
        assertThatThrownBy(() -> new StoredSecret.Md5("md5nothex")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void scramFieldsAreDecodedAndReEncodedIdentically() {
        StoredSecret.Scram s = (StoredSecret.Scram) StoredSecret.parse(RFC_SCRAM);
        assertThat(s.iterations()).isEqualTo(4096);
        assertThat(s.salt()).isEqualTo(Base64.getDecoder().decode(ScramRfc7677Test.SALT_B64));
        assertThat(s.storedKey()).hasSize(32);
        assertThat(s.serverKey()).hasSize(32);
        assertThat(s.encode()).isEqualTo(RFC_SCRAM);
        assertThat(RFC_SCRAM).startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
        assertThat(s).isEqualTo(ScramRfc7677Test.rfcSecret()).hasSameHashCodeAs(ScramRfc7677Test.rfcSecret());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "SCRAM-SHA-256$",
        "SCRAM-SHA-256$4096:c2FsdA==",
        "SCRAM-SHA-256$4096$AAAA:BBBB",
        "SCRAM-SHA-256$abc:c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$0:c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$4096:$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$4096:c2Fs!A==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$4096:c2FsdA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "SCRAM-SHA-256$4096:c2FsdA==:x$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    })
    void malformedScramIsRejectedWithAClearMessageNotPlainText(String text) {
        assertThatThrownBy(() -> StoredSecret.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("malformed SCRAM-SHA-256 secret: ")
                .message().doesNotContain("AAAAAAAA").doesNotContain("c2Fs");
    }

    @Test
    void aWellFormedHandMadeScramSecretParses() {
        String text = "SCRAM-SHA-256$1:c2FsdA==$" + "A".repeat(43) + "=:" + "B".repeat(42) + "A=";
        StoredSecret.Scram s = (StoredSecret.Scram) StoredSecret.parse(text);
        assertThat(s.iterations()).isEqualTo(1);
        assertThat(s.salt()).isEqualTo("salt".getBytes());
        assertThat(s.encode()).isEqualTo(text);
    }

    @Test
    void toStringNeverShowsTheSecret() {
        assertThat(new StoredSecret.Plain("hunter2").toString()).doesNotContain("hunter2");
        assertThat(new StoredSecret.Md5("md54a0a68b43b6cd5cf266fa02f196e2371").toString()).doesNotContain("4a0a68b4");
        StoredSecret.Scram s = ScramRfc7677Test.rfcSecret();
        assertThat(s.toString())
                .doesNotContain(Base64.getEncoder().encodeToString(s.storedKey()))
                .doesNotContain(Base64.getEncoder().encodeToString(s.serverKey()));
    }

    @Test
    void scramArraysCannotBeMutatedFromOutside() {
        byte[] salt = "salt".getBytes();
        StoredSecret.Scram s = StoredSecret.Scram.fromPassword("pw", salt, 10);
        salt[0] = 'X';
        s.storedKey()[0] ^= 1;
        s.salt()[0] = 'Y';
        assertThat(s).isEqualTo(StoredSecret.Scram.fromPassword("pw", "salt".getBytes(), 10));
    }

    @Test
    void fromPasswordDependsOnPasswordSaltAndIterations() {
        byte[] salt = "salt".getBytes();
        StoredSecret.Scram base = StoredSecret.Scram.fromPassword("pw", salt, 10);
        assertThat(StoredSecret.Scram.fromPassword("pw2", salt, 10)).isNotEqualTo(base);
        assertThat(StoredSecret.Scram.fromPassword("pw", "salu".getBytes(), 10)).isNotEqualTo(base);
        assertThat(StoredSecret.Scram.fromPassword("pw", salt, 11)).isNotEqualTo(base);
        assertThatThrownBy(() -> StoredSecret.Scram.fromPassword("", salt, 10)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hiMatchesPbkdf2WithHmacSha256() throws Exception {
        // Our hand-written Hi() must be PBKDF2 (first block), checked against the JDK's implementation.
        byte[] salt = "NaCl".getBytes();
        var spec = new javax.crypto.spec.PBEKeySpec("password".toCharArray(), salt, 80, 256);
        byte[] expected = javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        assertThat(ScramCrypto.hi("password".getBytes(), salt, 80)).isEqualTo(expected);
    }

    @Test
    void saslPrepFollowsPostgres() {
        assertThat(SaslPrep.prepare("pencil")).isEqualTo("pencil");
        assertThat(SaslPrep.prepare("a\u0007b")).isEqualTo("a\u0007b");        // ASCII: always unchanged
        assertThat(SaslPrep.prepare("I\u00ADX")).isEqualTo("IX");             // soft hyphen maps to nothing
        assertThat(SaslPrep.prepare("\u2168")).isEqualTo("IX");               // NFKC: ROMAN NUMERAL NINE
        assertThat(SaslPrep.prepare("a\u00A0b")).isEqualTo("a b");            // non-ASCII space -> space
        assertThat(SaslPrep.prepare("a\u200Bb")).isEqualTo("a b");            // in both tables: space wins, as in PostgreSQL
        assertThat(SaslPrep.prepare("\u2168\u0007")).isEqualTo("\u2168\u0007"); // prohibited: raw, not "IX\u0007"
        assertThat(SaslPrep.prepare("\u00AD\u034F")).isEqualTo("\u00AD\u034F"); // nothing left after mapping: raw
        assertThat(SaslPrep.prepare("\u05D0\u2168")).isEqualTo("\u05D0\u2168"); // RTL mixed with LTR: raw
        assertThat(SaslPrep.prepare("\u05D0\uFB20\u05D1")).isEqualTo("\u05D0\u05E2\u05D1"); // RTL only: normalized
        assertThat(SaslPrep.prepare("\u0221x")).isEqualTo("\u0221x");          // unassigned in Unicode 3.2: raw
        assertThat(SaslPrep.prepare("\uD800x")).isEqualTo("\uD800x");          // not valid Unicode: raw
        assertThat(SaslPrep.prepare("")).isEqualTo("");
    }
}
