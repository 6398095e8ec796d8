package dev.sluice.it;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for the TLS tests: real X.509 certificates (EC P-256, signed with
 * ECDSA) generated in the test, written as PEM the way PostgreSQL, PgBouncer and Sluice read them.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A certificate and its key pair. */
    public record Issued(X509Certificate cert, KeyPair keys) {}

    private final String name;
    private final KeyPair caKeys;
    private final X509Certificate ca;

    private TestPki(String name, KeyPair caKeys, X509Certificate ca) {
        this.name = name;
        this.caKeys = caKeys;
        this.ca = ca;
    }

    /** A new CA called "CN={name} test CA". */
    public static TestPki create(String name) throws Exception {
        KeyPair keys = ecKeys();
        X500Name subject = new X500Name("CN=" + name + " test CA");
        X509v3CertificateBuilder b = builder(subject, subject, keys);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return new TestPki(name, keys, sign(b, keys.getPrivate()));
    }

    public X509Certificate ca() {
        return ca;
    }

    /** A server certificate for the given DNS names and IP addresses (subjectAltName). */
    public Issued server(String cn, List<String> dnsNames, List<String> ips) throws Exception {
        List<GeneralName> names = new ArrayList<>();
        dnsNames.forEach(n -> names.add(new GeneralName(GeneralName.dNSName, n)));
        ips.forEach(ip -> names.add(new GeneralName(GeneralName.iPAddress, ip)));
        return issue(cn, KeyPurposeId.id_kp_serverAuth, names);
    }

    /** A client certificate whose CN is the user name (as PostgreSQL's cert authentication expects). */
    public Issued client(String user) throws Exception {
        return issue(user, KeyPurposeId.id_kp_clientAuth, List.of());
    }

    private Issued issue(String cn, KeyPurposeId purpose, List<GeneralName> names) throws Exception {
        KeyPair keys = ecKeys();
        X509v3CertificateBuilder b = builder(new X500Name("CN=" + name + " test CA"), new X500Name("CN=" + cn), keys);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        if (!names.isEmpty()) {
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(new GeneralName[0])));
        }
        return new Issued(sign(b, caKeys.getPrivate()), keys);
    }

    // ---- files ----

    /** Writes certificates as PEM (-----BEGIN CERTIFICATE-----). */
    public static Path writeCert(Path file, X509Certificate... certs) throws IOException {
        StringBuilder out = new StringBuilder();
        for (X509Certificate c : certs) {
            out.append(pem(c));
        }
        Files.writeString(file, out);
        return file;
    }

    /** Writes a private key as PEM PKCS#8 (-----BEGIN PRIVATE KEY-----), readable by its owner only. */
    public static Path writeKey(Path file, PrivateKey key) throws IOException {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded());
        Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Writes a private key as DER PKCS#8, the format pgjdbc's sslkey reads. */
    public static Path writeKeyDer(Path file, PrivateKey key) throws IOException {
        Files.write(file, key.getEncoded());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** Writes any key as BouncyCastle's PEM writer does (PKCS#1 "RSA PRIVATE KEY" for RSA keys). */
    public static Path writeKeyOpenSslLegacy(Path file, PrivateKey key) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(key);
        }
        Files.writeString(file, w.toString());
        return file;
    }

    private static String pem(X509Certificate c) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(c.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- plumbing ----

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject,
                keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }
}
