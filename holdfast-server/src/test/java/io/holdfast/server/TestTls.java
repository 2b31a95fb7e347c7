package io.holdfast.server;

import io.holdfast.protocol.TlsFiles;
import io.holdfast.tls.CertificateAuthority;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A CA and its certificates in a temporary directory, for tests over TLS: node certificates for
 * {@code n1}…{@code n5} on 127.0.0.1, and client certificates ({@link #CLIENTS}).
 */
final class TestTls {
    private final Path dir;
    private final TlsFiles.ClientAuth clientAuth;

    TestTls(TlsFiles.ClientAuth clientAuth) throws IOException {
        this.clientAuth = clientAuth;
        this.dir = Files.createTempDirectory("holdfast-tls");
        CertificateAuthority ca = CertificateAuthority.create("test-ca", Duration.ofDays(1));
        ca.write(dir);
        for (int i = 1; i <= 5; i++) {
            ca.issue("n" + i, List.of("127.0.0.1", "localhost"), Duration.ofDays(1))
                    .write(dir, "n" + i);
        }
        for (String client : CLIENTS) {
            ca.issue(client, List.of(), Duration.ofDays(1)).write(dir, client);
        }
    }

    /** The client certificates made: their common names, which are the clients' identities. */
    static final List<String> CLIENTS = List.of("client", "alice", "bob", "ops");

    Path dir() {
        return dir;
    }

    TlsFiles.ClientAuth clientAuth() {
        return clientAuth;
    }

    Path file(String name) {
        return dir.resolve(name);
    }

    TlsFiles node(String id) {
        return new TlsFiles(dir.resolve(id + ".pem"), dir.resolve(id + "-key.pem"), dir.resolve("ca.pem"));
    }

    /** The URI parameters of a client with this CA and the client certificate. */
    String clientQuery() {
        return clientQuery("client");
    }

    /** The URI parameters of a client with this CA and the bearer token {@code token} (no certificate). */
    String tokenQuery(String token) {
        return "?ca=" + dir.resolve("ca.pem") + "&token=" + token;
    }

    /** The URI parameters of a client with this CA and the certificate of {@code name}. */
    String clientQuery(String name) {
        return "?ca=" + dir.resolve("ca.pem") + "&cert=" + dir.resolve(name + ".pem") + "&key="
                + dir.resolve(name + "-key.pem");
    }
}
