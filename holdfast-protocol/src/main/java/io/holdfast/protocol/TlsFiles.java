package io.holdfast.protocol;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * The PEM files of one side of a TLS connection: its certificate chain and private key (PKCS#8,
 * unencrypted), and the CA certificates it trusts to sign the other side's certificate.
 *
 * <p>On a server, the certificate is the node's, and the CA both signs the clients' certificates
 * (when client certificates are asked for) and its peers' (Raft connections are always mutually
 * authenticated). On a client, the certificate and key are optional, and the CA is optional too:
 * without one, the JVM's default trust store decides.
 *
 * <p><b>Failure story.</b> An operator copies {@code n1.pem} but not {@code n1-key.pem} to a node:
 * {@link #check()} says which file is missing before anything listens, and {@code holdfast server}
 * prints that one line and exits.
 *
 * @param certificate the certificate chain, or null (a client without a certificate)
 * @param privateKey the private key of {@code certificate}, or null exactly when it is null
 * @param trustedCa the CA certificates to trust, or null (the JVM's defaults; clients only)
 */
public record TlsFiles(Path certificate, Path privateKey, Path trustedCa) {
    /** Whether a server asks its clients for certificates. */
    public enum ClientAuth {
        /** Clients are not asked for a certificate. */
        NONE,
        /** A client may present one; if it does, it must be signed by the trusted CA. */
        OPTIONAL,
        /** Every client must present a certificate signed by the trusted CA, or the handshake fails. */
        REQUIRE
    }

    public TlsFiles {
        if ((certificate == null) != (privateKey == null)) {
            throw new IllegalArgumentException(
                    "a TLS certificate and its private key go together: give both or neither");
        }
    }

    /**
     * Checks that every file named is readable and holds what it should: certificates in PEM form,
     * and an unencrypted PKCS#8 private key ({@code BEGIN PRIVATE KEY}).
     *
     * @return this
     * @throws IllegalArgumentException naming the first file that does not
     */
    public TlsFiles check() {
        certificates("TLS certificate", certificate);
        privateKey("TLS private key", privateKey);
        certificates("TLS CA certificate", trustedCa);
        return this;
    }

    private static void certificates(String what, Path file) {
        if (file == null) {
            return;
        }
        readable(what, file);
        try (InputStream in = Files.newInputStream(file)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException(what + " " + file + " holds no certificate");
            }
        } catch (IOException | CertificateException e) {
            throw new IllegalArgumentException(what + " " + file + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    private static void privateKey(String what, Path file) {
        if (file == null) {
            return;
        }
        readPrivateKey(what, file);
    }

    private static java.security.PrivateKey readPrivateKey(String what, Path file) {
        readable(what, file);
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " " + file + " cannot be read: " + e.getMessage(), e);
        }
        String begin = "-----BEGIN PRIVATE KEY-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf("-----END PRIVATE KEY-----", b);
        if (b < 0 || e < 0) {
            throw new IllegalArgumentException(what + " " + file + " is not an unencrypted PKCS#8 PEM key ('" + begin
                    + "'); convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException(what + " " + file + " has a damaged key block", x);
        }
        for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException x) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException(what + " " + file + " holds no EC, RSA or Ed25519 private key");
    }

    /**
     * The credentials of a gRPC server: this certificate, and clients checked against the CA as
     * {@code clientAuth} says.
     *
     * @throws IllegalArgumentException if a file is missing or cannot be read as PEM
     */
    public ServerCredentials serverCredentials(ClientAuth clientAuth) {
        return serverCredentials(clientAuth, null);
    }

    /**
     * As {@link #serverCredentials(ClientAuth)}, telling {@code refused} of each client
     * certificate the handshake refuses ({@link RefusedCertificates}; null: nobody).
     */
    public ServerCredentials serverCredentials(ClientAuth clientAuth, RefusedCertificates.Listener refused) {
        if (certificate == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate and its private key");
        }
        if (clientAuth != ClientAuth.NONE && trustedCa == null) {
            throw new IllegalArgumentException("checking client certificates needs a trusted CA certificate");
        }
        check();
        try {
            TlsServerCredentials.Builder b =
                    TlsServerCredentials.newBuilder().keyManager(certificate.toFile(), privateKey.toFile());
            if (trustedCa != null && refused != null) {
                b.trustManager(RefusedCertificates.wrap(trustManagers(), refused));
            } else if (trustedCa != null) {
                b.trustManager(trustedCa.toFile());
            }
            b.clientAuth(
                    switch (clientAuth) {
                        case NONE -> TlsServerCredentials.ClientAuth.NONE;
                        case OPTIONAL -> TlsServerCredentials.ClientAuth.OPTIONAL;
                        case REQUIRE -> TlsServerCredentials.ClientAuth.REQUIRE;
                    });
            return b.build();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the TLS files " + this + ": " + e.getMessage(), e);
        }
    }

    /**
     * The credentials of a gRPC client: the server checked against the CA (or the JVM's defaults),
     * and this certificate presented if there is one.
     *
     * @throws IllegalArgumentException if a file is missing or cannot be read as PEM
     */
    public ChannelCredentials channelCredentials() {
        check();
        try {
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
            if (trustedCa != null) {
                b.trustManager(trustedCa.toFile());
            }
            if (certificate != null) {
                b.keyManager(certificate.toFile(), privateKey.toFile());
            }
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the TLS files " + this + ": " + e.getMessage(), e);
        }
    }

    /**
     * A JDK {@link javax.net.ssl.SSLContext} that presents this certificate and key (if any) and
     * trusts the CA (or the JVM's defaults without one): for the HTTP port, which the JDK's HTTPS
     * server serves, and for HTTPS clients.
     *
     * @throws IllegalArgumentException if a file is missing or cannot be read as PEM
     */
    public javax.net.ssl.SSLContext sslContext() {
        return sslContext(null);
    }

    /**
     * As {@link #sslContext()}, telling {@code refused} of each client certificate a server's
     * handshake refuses ({@link RefusedCertificates}; null: nobody).
     */
    public javax.net.ssl.SSLContext sslContext(RefusedCertificates.Listener refused) {
        check();
        try {
            CertificateFactory x509 = CertificateFactory.getInstance("X.509");
            javax.net.ssl.KeyManager[] keyManagers = null;
            if (certificate != null) {
                java.security.cert.Certificate[] chain;
                try (InputStream in = Files.newInputStream(certificate)) {
                    chain = x509.generateCertificates(in).toArray(new java.security.cert.Certificate[0]);
                }
                char[] password = new char[0];
                java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("node", readPrivateKey("TLS private key", privateKey), password, chain);
                javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                        javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, password);
                keyManagers = kmf.getKeyManagers();
            }
            javax.net.ssl.TrustManager[] trust = trustedCa == null ? null : trustManagers();
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(keyManagers, RefusedCertificates.wrap(trust, refused), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the TLS files " + this + ": " + e.getMessage(), e);
        }
    }

    /** The JDK's trust managers for the CA certificates of {@code trustedCa}. */
    private javax.net.ssl.TrustManager[] trustManagers() throws IOException, GeneralSecurityException {
        java.security.KeyStore cas = java.security.KeyStore.getInstance("PKCS12");
        cas.load(null, null);
        int i = 0;
        try (InputStream in = Files.newInputStream(trustedCa)) {
            for (java.security.cert.Certificate ca :
                    CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                cas.setCertificateEntry("ca" + i++, ca);
            }
        }
        javax.net.ssl.TrustManagerFactory tmf =
                javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(cas);
        return tmf.getTrustManagers();
    }

    private static void readable(String what, Path file) {
        if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
            throw new IllegalArgumentException(
                    what + " " + file + (Files.exists(file) ? " cannot be read" : " does not exist"));
        }
    }

    @Override
    public String toString() {
        return "[certificate " + certificate + ", key " + privateKey + ", CA " + trustedCa + "]";
    }
}
