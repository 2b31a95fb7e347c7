package io.holdfast.cli;

import io.holdfast.tls.CertificateAuthority;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast certs}: a self-signed CA and certificates for nodes and clients, as PEM files, for
 * trying TLS out. A directory that already holds a CA ({@code ca.pem}, {@code ca-key.pem}) keeps it
 * and gets the new certificates from it, so more nodes or clients can be added later.
 *
 * <p>Exit code 0; {@value ExitCodes#USAGE} for a bad name, host or validity; {@value
 * ExitCodes#SOFTWARE} when the files cannot be written.
 */
@Command(
        name = "certs",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Make a self-signed CA and certificates for nodes and clients (PEM files), for trying TLS out.",
            "A directory that already has ca.pem and ca-key.pem keeps its CA. Not a production PKI.",
            "",
            "Example:  holdfast certs --out certs --nodes n1,n2,n3 --clients app",
            "          holdfast server --tls-cert certs/n1.pem --tls-key certs/n1-key.pem --tls-ca certs/ca.pem",
            "          holdfast lock job --backend 'holdfast://127.0.0.1:4653?ca=certs/ca.pem&cert=certs/app.pem"
                    + "&key=certs/app-key.pem' -- ./job.sh"
        })
final class CertsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            defaultValue = "certs",
            description = "Where to write the files (default: ./${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--nodes",
            paramLabel = "ID,...",
            split = ",",
            defaultValue = "n1",
            description = "Node certificates to make, one per id (default: ${DEFAULT-VALUE}).")
    List<String> nodes;

    @Option(
            names = "--clients",
            paramLabel = "NAME,...",
            split = ",",
            defaultValue = "client",
            description = "Client certificates to make (default: ${DEFAULT-VALUE}).")
    List<String> clients;

    @Option(
            names = "--hosts",
            paramLabel = "HOST,...",
            split = ",",
            defaultValue = "127.0.0.1,localhost,::1",
            description = "Host names and IP addresses clients and peers reach the nodes at; every node"
                    + " certificate names all of them (default: ${DEFAULT-VALUE}).")
    List<String> hosts;

    @Option(
            names = "--days",
            paramLabel = "N",
            defaultValue = "365",
            description = "How long the certificates are valid (default: ${DEFAULT-VALUE} days; a new CA gets ten"
                    + " times as long).")
    int days;

    @Override
    public Integer call() {
        if (days < 1 || days > 3650) {
            throw new CliFailure(ExitCodes.USAGE, "--days must be between 1 and 3650, not " + days);
        }
        Duration validity = Duration.ofDays(days);
        PrintWriter o = spec.commandLine().getOut();
        List<Path> written = new ArrayList<>();
        try {
            Path caCert = out.resolve(CertificateAuthority.CA_CERT);
            Path caKey = out.resolve(CertificateAuthority.CA_KEY);
            CertificateAuthority ca;
            if (Files.exists(caCert) || Files.exists(caKey)) {
                ca = CertificateAuthority.load(caCert, caKey);
                o.printf("Using the CA in %s%n", caCert);
            } else {
                ca = CertificateAuthority.create("holdfast-ca", validity.multipliedBy(10));
                written.addAll(ca.write(out));
            }
            for (String node : nodes) {
                written.addAll(ca.issue(node, hosts, validity).write(out, node));
            }
            for (String client : clients) {
                written.addAll(ca.issue(client, List.of(), validity).write(out, client));
            }
        } catch (IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new CliFailure(ExitCodes.SOFTWARE, e.getMessage(), e);
        }
        for (Path p : written) {
            o.println("wrote " + p);
        }
        String node = nodes.isEmpty() ? "n1" : nodes.get(0);
        o.printf(
                "A node:    holdfast server --tls-cert %s --tls-key %s --tls-ca %s%n",
                out.resolve(node + ".pem"), out.resolve(node + "-key.pem"), out.resolve(CertificateAuthority.CA_CERT));
        if (!clients.isEmpty()) {
            String c = clients.get(0);
            o.printf(
                    "A client:  --backend 'holdfast://127.0.0.1:4653?ca=%s&cert=%s&key=%s'%n",
                    out.resolve(CertificateAuthority.CA_CERT), out.resolve(c + ".pem"), out.resolve(c + "-key.pem"));
        }
        o.flush();
        return ExitCodes.OK;
    }
}
