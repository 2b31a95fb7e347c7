package io.holdfast.bench.population;

import io.holdfast.protocol.TlsFiles;
import io.holdfast.tls.CertificateAuthority;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The benchmark's cluster as production runs one for a large population: TLS between everyone, and access rules
 * that give the benchmark's one identity every verb and lift the quotas out of the way. Without rules, every
 * anonymous client shares one count of 10,000 open sessions and the table one of 1,000,000 state entries
 * (docs/security.md); rules take TLS. The quotas are an operator's choice; this benchmark measures what the
 * population costs, so it sets them to their maxima.
 *
 * <p>Guaranteed: a fresh CA, a certificate per node (valid for 127.0.0.1 and localhost) and one for the client
 * ({@value #IDENTITY}), written under one directory, and a rules file; the same files for every node and client of
 * the run. Not guaranteed: anything about security (the CA's key lies beside the certificates). Failure story: a
 * node that cannot read its files exits during startup, and {@link Nodes#awaitReady} names the log's tail.
 */
final class Secured {
    /** The benchmark's identity: its client certificate's common name, an admin in the rules. */
    static final String IDENTITY = "population";

    static final String RULES = String.join(
            "\n",
            "user " + IDENTITY + " root",
            "role root admin *",
            "limit sessions-per-identity " + Integer.MAX_VALUE,
            "limit holds-per-session " + Integer.MAX_VALUE,
            "limit waits-per-session " + Integer.MAX_VALUE,
            "limit waiters-per-lock " + Integer.MAX_VALUE,
            "limit state-entries " + Integer.MAX_VALUE,
            "");

    private final Path dir;
    private final TlsFiles client;

    private Secured(Path dir) {
        this.dir = dir;
        this.client = new TlsFiles(
                dir.resolve(IDENTITY + ".pem"),
                dir.resolve(IDENTITY + "-key.pem"),
                dir.resolve(CertificateAuthority.CA_CERT));
    }

    /** Writes a new CA, the nodes' and the client's certificates and the rules under {@code dir} (emptied of them). */
    static Secured create(Path dir, List<String> nodeIds) throws IOException {
        Files.createDirectories(dir);
        try (var old = Files.list(dir)) {
            for (Path f : old.filter(f -> f.toString().endsWith(".pem") || f.endsWith("rules.txt"))
                    .toList()) {
                Files.delete(f);
            }
        }
        Duration validity = Duration.ofDays(2);
        CertificateAuthority ca = CertificateAuthority.create("holdfast-bench-ca", validity);
        ca.write(dir);
        for (String id : nodeIds) {
            ca.issue(id, List.of("127.0.0.1", "localhost"), validity).write(dir, id);
        }
        ca.issue(IDENTITY, List.of(), validity).write(dir, IDENTITY);
        Files.writeString(dir.resolve("rules.txt"), RULES, StandardCharsets.UTF_8);
        return new Secured(dir);
    }

    /** The {@code holdfast server} options of one node: its certificate, the CA, the rules. */
    List<String> serverOptions(String nodeId) {
        return List.of(
                "--tls-cert", dir.resolve(nodeId + ".pem").toString(),
                "--tls-key", dir.resolve(nodeId + "-key.pem").toString(),
                "--tls-ca", dir.resolve(CertificateAuthority.CA_CERT).toString(),
                "--auth-rules", dir.resolve("rules.txt").toString());
    }

    /** What a backend URI adds for the client to present its certificate and trust the CA. */
    String uriQuery() {
        return "?ca=" + client.trustedCa() + "&cert=" + client.certificate() + "&key=" + client.privateKey();
    }

    /** For the nodes' HTTPS port: the client's certificate, the CA trusted. */
    SSLContext sslContext() {
        return client.sslContext();
    }
}
