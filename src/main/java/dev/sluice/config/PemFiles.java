package dev.sluice.config;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

// Reads PEM certificates and private keys the way PostgreSQL and PgBouncer expect them on disk.
/**
 * Every failure is an IllegalArgumentException whose message names the file and says how to fix it; the
 * loader prefixes the setting and line. Text around the PEM blocks (openssl's "-text" output, comments)
 * is skipped, as OpenSSL does.
 */
final class PemFiles {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** PKCS#1 RSA keys are wrapped into PKCS#8 with this algorithm identifier (rsaEncryption, NULL). */
    private static final byte[] RSA_ALGORITHM_ID = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

    private record Block(String type, byte[] der, boolean encrypted) {}

    private PemFiles() {
    }

    /** Every certificate in {@code file}, in order (a chain: the certificate first, then its issuers). */
    static List<X509Certificate> certificates(Path file) {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file)) {
                if (b.type.equals("CERTIFICATE") || b.type.equals("TRUSTED CERTIFICATE")) {
                    out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der)));
                }
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(file + " holds a certificate that cannot be read (" + e.getMessage()
                    + "); it must be PEM (-----BEGIN CERTIFICATE-----)");
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no certificate; it must be PEM "
                    + "(-----BEGIN CERTIFICATE-----)");
        }
        return out;
    }

    /** The private key in {@code file}: PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 RSA (BEGIN RSA PRIVATE KEY). */
    static PrivateKey privateKey(Path file) {
        for (Block b : blocks(file)) {
            switch (b.type) {
                case "PRIVATE KEY":
                    return pkcs8(file, b.der);
                case "RSA PRIVATE KEY":
                    if (b.encrypted) {
                        throw new IllegalArgumentException(file + " holds an encrypted RSA key (Proc-Type: "
                                + "4,ENCRYPTED), which Sluice cannot unlock without a passphrase; store it decrypted "
                                + "with 'openssl rsa -in " + file + " -out new.key' and chmod 600 it");
                    }
                    return pkcs8(file, wrapRsa(b.der));
                case "ENCRYPTED PRIVATE KEY":
                    throw new IllegalArgumentException(file + " holds an encrypted private key, which Sluice cannot "
                            + "unlock without a passphrase (PgBouncer cannot either); store it decrypted with "
                            + "'openssl pkcs8 -topk8 -nocrypt -in " + file + " -out new.key' and restrict the file "
                            + "to Sluice's user (chmod 600)");
                case "EC PRIVATE KEY":
                    throw new IllegalArgumentException(file + " holds an EC key in the SEC1 format (BEGIN EC PRIVATE "
                            + "KEY); convert it to PKCS#8 with 'openssl pkcs8 -topk8 -nocrypt -in " + file
                            + " -out new.key'");
                default:
                    break;
            }
        }
        throw new IllegalArgumentException(file + " holds no private key; it must be PEM (-----BEGIN PRIVATE "
                + "KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
    }

    /** Checks that {@code key} is the private half of {@code cert}'s public key, by signing and verifying. */
    static boolean matches(PrivateKey key, X509Certificate cert) {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (alg == null) {
            return true; // an algorithm we cannot test here: the TLS handshake will tell
        }
        try {
            byte[] probe = "sluice key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(cert.getPublicKey());
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false; // e.g. an RSA key with an EC certificate
        }
    }

    private static PrivateKey pkcs8(Path file, byte[] der) {
        for (String alg : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                // not this algorithm; try the next
            }
        }
        throw new IllegalArgumentException(file + " holds a private key of a kind Sluice cannot read (RSA, EC, "
                + "Ed25519 and Ed448 are supported)");
    }

    /** PKCS#8 PrivateKeyInfo around a PKCS#1 RSAPrivateKey: SEQUENCE { 0, rsaEncryption, OCTET STRING }. */
    private static byte[] wrapRsa(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00}); // version 0
        body.writeBytes(RSA_ALGORITHM_ID);
        body.write(0x04);
        writeLength(body, pkcs1.length);
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        writeLength(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int len) {
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len & 0xff);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write((len >> 8) & 0xff);
            out.write(len & 0xff);
        }
    }

    private static List<Block> blocks(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(file + " cannot be read by Sluice's user (permission denied)");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage());
        }
        List<Block> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String body = m.group(2);
            boolean encrypted = body.contains("Proc-Type:");
            try {
                out.add(new Block(m.group(1), encrypted ? new byte[0]
                        : Base64.getMimeDecoder().decode(body.strip()), encrypted));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": the " + m.group(1) + " block is not valid base64");
            }
        }
        return out;
    }
}
