package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.backup.BackupDownload;
import io.holdfast.server.backup.BackupFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast backup --out FILE}: a consistent copy of a running cluster's lock table, taken by
 * its leader after a read barrier and streamed from its HTTP port ({@code GET /api/v1/backup}) into
 * FILE as it arrives (a follower names the leader's HTTP port, which is asked next), whatever its size; FILE appears only once its SHA-256 checks ({@link
 * BackupDownload}, {@link BackupFile}). {@code holdfast restore} seeds a new cluster from it.
 */
@Command(
        name = "backup",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Save a consistent copy of a running cluster's lock table (registers, access rules, holds) to FILE,"
                    + " taken by the leader and streamed from its HTTP port (a follower asked names the leader's,"
                    + " which is asked next); admin only when access control is on. See docs/operations.md.",
            "Exit code: 0; 69 backend unavailable (no leader within --timeout); 64 usage error, a backend that is"
                    + " no Holdfast server, or a backup damaged on the way; 73 the file cannot be written (its"
                    + " directory missing, permission denied, the disk full: the line says which); 77 not allowed."
        })
final class BackupCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the backup.")
    Path out;

    @Option(
            names = "--http",
            paramLabel = "URL",
            description = "A member's HTTP port (http://host:4655; https with TLS). Default: every member of"
                    + " --backend at its client port + 2, the ports' default layout.")
    List<URI> http;

    @Mixin
    ServerCalls cluster;

    @Override
    public Integer call() throws InterruptedException {
        String uri = cluster.uri();
        if (!uri.startsWith("holdfast://")) {
            throw new CliFailure(ExitCodes.USAGE, "backups belong to a Holdfast server (holdfast://…), not " + uri);
        }
        TlsFiles tls;
        List<URI> members;
        try {
            tls = HoldfastProvider.tls(uri);
            String scheme = tls == null ? "http://" : "https://";
            members = http != null && !http.isEmpty()
                    ? http
                    : HoldfastProvider.members(uri).stream()
                            .map(m -> URI.create(scheme + m.host() + ":" + (m.port() + 2)))
                            .toList();
        } catch (InvalidArgumentException | IllegalArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        BackupDownload.Saved saved;
        try {
            javax.net.ssl.SSLContext ssl = tls == null ? null : tls.sslContext();
            // No member answered, or none could serve it (503: no leader yet): again, within --timeout.
            saved = ServerCalls.retrying(
                    cluster.timeout(),
                    e -> e instanceof BackupDownload.Failed f && (f.status() == 0 || f.status() >= 500),
                    attempt -> BackupDownload.fetch(members, ssl, HoldfastProvider.token(uri), out, TIMEOUT));
        } catch (BackupDownload.Failed e) {
            int code = e.status() == 401 || e.status() == 403
                    ? ExitCodes.NO_PERMISSION
                    : e.status() == 0 || e.status() >= 500 ? ExitCodes.BACKEND_UNAVAILABLE : ExitCodes.USAGE;
            throw new CliFailure(code, e.getMessage(), e);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (BackupDownload.Unwritable e) {
            throw new CliFailure(ExitCodes.CANNOT_CREATE, e.getMessage(), e);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.CANNOT_CREATE, "cannot write " + out + ": " + Main.withRootCause(e), e);
        }
        BackupFile.Header h = saved.header();
        PrintWriter w = spec.commandLine().getOut();
        w.printf(
                "Saved the lock table of cluster %s at log index %d (term %d, taken %s), %d bytes, SHA-256 checked,"
                        + " to %s%n",
                h.clusterId() == null ? "(no id yet)" : h.clusterId(),
                h.index(),
                h.term(),
                Instant.ofEpochMilli(h.takenAtMillis()),
                saved.bytes(),
                out);
        w.flush();
        return ExitCodes.OK;
    }
}
