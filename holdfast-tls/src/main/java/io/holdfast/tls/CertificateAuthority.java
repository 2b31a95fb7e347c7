package io.holdfast.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority for <b>trying TLS out</b>: a self-signed CA that issues node and
 * client certificates, all written as PEM files that {@code holdfast server --tls-*} and {@code
 * holdfast://…?ca=…&cert=…&key=…} read.
 *
 * <p><b>Guarantees.</b> Keys are EC P-256 from {@link SecureRandom}; private keys are written
 * unencrypted in PKCS#8 ({@code BEGIN PRIVATE KEY}) with owner-only permissions where the file
 * system has them. Every issued certificate names its holder in the common name and may serve
 * both sides of a connection (server and client authentication), because a node is a server to its
 * clients and a client of its peers. Host names and IP addresses become subject alternative names,
 * which is what TLS clients check.
 *
 * <p><b>Not guaranteed.</b> This is not a production PKI: no revocation lists, no intermediate CAs,
 * no key protection beyond file permissions. Operators with their own PKI use its files instead.
 *
 * <p><b>Failure story.</b> A client connects to {@code 10.0.0.5:4653} with a node certificate
 * issued for {@code 127.0.0.1} and {@code localhost} only: the handshake fails on the client with
 * a host-name mismatch, and nothing is sent. Issue the node's certificate with the addresses its
 * clients use ({@code holdfast certs --hosts 10.0.0.5,…}).
 */
public final class CertificateAuthority {
    /** The certificate and key files this class writes for a CA. */
    public static final String CA_CERT = "ca.pem";

    public static final String CA_KEY = "ca-key.pem";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SIGNATURE = "SHA256withECDSA";

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
        /**
         * Writes {@code <dir>/<name>.pem} (the certificate) and {@code <dir>/<name>-key.pem} (the
         * key, owner-only).
         *
         * @return the two files, certificate first
         */
        public List<Path> write(Path dir, String name) {
            checkName(name);
            Path cert = dir.resolve(name + ".pem");
            Path keyFile = dir.resolve(name + "-key.pem");
            try {
                Files.createDirectories(dir);
                Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()), StandardCharsets.US_ASCII);
                writePrivate(keyFile, pem("PRIVATE KEY", key.getEncoded()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + cert + " and " + keyFile + ": " + e.getMessage(), e);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot encode the certificate of " + name, e);
            }
            return List.of(cert, keyFile);
        }
    }

    /**
     * A new self-signed CA.
     *
     * @param name the CA's common name
     * @param validity how long it is valid, from now
     */
    public static CertificateAuthority create(String name, Duration validity) {
        return create(name, Instant.now(), validity);
    }

    /** A new self-signed CA valid from {@code notBefore} (tests make expired ones with this). */
    public static CertificateAuthority create(String name, Instant notBefore, Duration validity) {
        checkName(name);
        KeyPair pair = newKeyPair();
        X500Name subject = subject(name);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(subject, subject, notBefore, validity, pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            return new CertificateAuthority(sign(b, pair.getPrivate()), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot make a CA certificate", e);
        }
    }

    /**
     * Loads a CA from the PEM files that {@link #write(Path)} wrote.
     *
     * @throws IllegalArgumentException naming the file that is missing or not a CA's PEM file
     */
    public static CertificateAuthority load(Path certFile, Path keyFile) {
        X509Certificate cert = readCertificate(certFile);
        PrivateKey key;
        try {
            byte[] der = readPem(keyFile, "PRIVATE KEY");
            key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(keyFile + " is not an EC private key in PKCS#8 PEM form", e);
        }
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalArgumentException(certFile + " is not a CA certificate");
        }
        return new CertificateAuthority(cert, key);
    }

    /**
     * Issues a certificate for {@code name}, valid for server and client authentication.
     *
     * @param name the holder's common name: a node id or a client name
     * @param hosts host names and IP addresses the holder is reached at (may be empty for clients)
     * @param validity how long it is valid, from now
     */
    public Issued issue(String name, List<String> hosts, Duration validity) {
        return issue(name, hosts, Instant.now(), validity);
    }

    /** As {@link #issue(String, List, Duration)}, valid from {@code notBefore}. */
    public Issued issue(String name, List<String> hosts, Instant notBefore, Duration validity) {
        checkName(name);
        Objects.requireNonNull(hosts, "hosts");
        KeyPair pair = newKeyPair();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(
                            X500Name.getInstance(
                                    certificate.getSubjectX500Principal().getEncoded()),
                            subject(name),
                            notBefore,
                            validity,
                            pair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(
                            Extension.keyUsage,
                            true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                    }))
                    .addExtension(
                            Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()))
                    .addExtension(
                            Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            List<GeneralName> names = alternativeNames(hosts);
            if (!names.isEmpty()) {
                b.addExtension(
                        Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return new Issued(sign(b, key), pair.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue a certificate for " + name, e);
        }
    }

    /** The CA's certificate, which clients and nodes trust. */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * Writes {@value #CA_CERT} and {@value #CA_KEY} (owner-only) into {@code dir}.
     *
     * @return the two files, certificate first
     */
    public List<Path> write(Path dir) {
        Path cert = dir.resolve(CA_CERT);
        Path keyFile = dir.resolve(CA_KEY);
        try {
            Files.createDirectories(dir);
            Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()), StandardCharsets.US_ASCII);
            writePrivate(keyFile, pem("PRIVATE KEY", key.getEncoded()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the CA into " + dir + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot encode the CA certificate", e);
        }
        return List.of(cert, keyFile);
    }

    /**
     * Reads one X.509 certificate from a PEM file.
     *
     * @throws IllegalArgumentException naming the file if it is missing or holds no certificate
     */
    public static X509Certificate readCertificate(Path file) {
        try {
            byte[] der = readPem(file, "CERTIFICATE");
            return (X509Certificate)
                    CertificateFactory.getInstance("X.509").generateCertificate(new java.io.ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + " does not hold an X.509 certificate", e);
        }
    }

    // ------------------------------------------------------------------------------ internals

    private static void checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "a certificate name is 1 to 64 of [A-Za-z0-9._-], starting with a letter or digit, not '" + name
                            + "'");
        }
    }

    private static X500Name subject(String name) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, "Holdfast")
                .addRDN(BCStyle.CN, name)
                .build();
    }

    private static X509v3CertificateBuilder builder(
            X500Name issuer, X500Name subject, Instant notBefore, Duration validity, PublicKey publicKey) {
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("a certificate's validity must be positive, not " + validity);
        }
        return new JcaX509v3CertificateBuilder(
                issuer,
                new BigInteger(127, RANDOM).add(BigInteger.ONE),
                Date.from(notBefore),
                Date.from(notBefore.plus(validity)),
                subject,
                publicKey);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter()
                    .getCertificate(builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with " + SIGNATURE, e);
        }
    }

    private static List<GeneralName> alternativeNames(List<String> hosts) {
        Set<String> unique = new LinkedHashSet<>(hosts);
        List<GeneralName> names = new ArrayList<>();
        for (String host : unique) {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("a host name or address may not be blank");
            }
            String h = host.trim();
            if (h.startsWith("[") && h.endsWith("]")) {
                h = h.substring(1, h.length() - 1);
            }
            if (isAddress(h)) {
                names.add(new GeneralName(GeneralName.iPAddress, h));
            } else if (h.matches("[A-Za-z0-9*]([A-Za-z0-9.-]{0,252})")) {
                names.add(new GeneralName(GeneralName.dNSName, h));
            } else {
                throw new IllegalArgumentException("'" + host + "' is neither a host name nor an IP address");
            }
        }
        return names;
    }

    private static boolean isAddress(String h) {
        if (!h.matches("[0-9.]+") && !h.contains(":")) {
            return false;
        }
        try {
            InetAddress.getByName(h); // a literal: no lookup
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot make EC P-256 keys", e);
        }
    }

    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static byte[] readPem(Path file, String type) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new IllegalArgumentException(file + " holds no '" + begin + "' block");
        }
        try {
            return Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException(file + " has a damaged " + type + " block", x);
        }
    }

    private static void writePrivate(Path file, String content) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }
}
