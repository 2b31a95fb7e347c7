package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.server.backup.BackupDownload;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.BackupKey;
import io.holdfast.server.backup.BackupStore;
import io.holdfast.server.backup.LocalStore;
import io.holdfast.server.backup.S3Store;
import io.holdfast.server.backup.StoredBackups;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
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
 * FILE as it arrives (a follower names the leader's HTTP port, which is asked next), whatever its
 * size; FILE appears only once its SHA-256 checks ({@link BackupDownload}, {@link BackupFile}).
 * With {@code --backup-key} the checked copy is encrypted into FILE ({@link BackupKey}); with
 * {@code --out s3://BUCKET/PREFIX/NAME} it is uploaded, encrypted, to an S3-compatible store
 * ({@link S3Store}). {@code holdfast restore} seeds a new cluster from it.
 */
@Command(
        name = "backup",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Save a consistent copy of a running cluster's lock table (registers, access rules, holds) to FILE,"
                    + " taken by the leader and streamed from its HTTP port (a follower asked names the leader's,"
                    + " which is asked next); admin only when access control is on. See docs/operations.md.",
            "Exit code: 0; 69 backend unavailable (no leader within --timeout) or the object store unreachable;"
                    + " 64 usage error, a backend that is no Holdfast server, a bad key file, no such bucket, or a"
                    + " backup damaged on the way; 73 the file cannot be written (its directory missing,"
                    + " permission denied, the disk full: the line says which); 77 not allowed (by the cluster or"
                    + " by the object store)."
        })
final class BackupCommand implements Callable<Integer> {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Spec
    CommandSpec spec;

    @Option(
            names = "--out",
            required = true,
            paramLabel = "FILE|s3://BUCKET/PREFIX/NAME",
            description = "Where to write the backup: a file, or an object in an S3-compatible store (needs"
                    + " --backup-key).")
    String out;

    @Mixin
    BackupStoreOptions store;

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
        BackupKey key = store.key();
        boolean s3 = S3Store.isS3(out);
        Path file = s3 ? null : Path.of(out);
        Path plain = null;
        S3Store target = null;
        String[] object = null;
        if (s3) {
            try {
                object = S3Store.splitObject(out);
            } catch (InvalidArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
            }
            target = store.s3(object[0], key, tmp());
        }
        BackupDownload.Saved saved;
        long stored;
        try {
            if (key != null) {
                // The plain backup lands in a temporary file first (next to FILE, or in the system's
                // temporary directory for s3://), and is encrypted from there.
                Path dir = s3 ? tmp() : BackupDownload.writableDirectory(file);
                plain = Files.createTempFile(dir, ".holdfast-backup-", ".plain");
            }
            Path into = plain != null ? plain : file;
            javax.net.ssl.SSLContext ssl = tls == null ? null : tls.sslContext();
            // No member answered, or none could serve it (503: no leader yet): again, within --timeout.
            saved = ServerCalls.retrying(
                    cluster.timeout(),
                    e -> e instanceof BackupDownload.Failed f && (f.status() == 0 || f.status() >= 500),
                    attempt -> BackupDownload.fetch(members, ssl, HoldfastProvider.token(uri), into, TIMEOUT));
            stored = saved.bytes();
            if (target != null) {
                stored = StoredBackups.save(plain, target, object[1], key);
            } else if (key != null) {
                stored = StoredBackups.save(
                        plain,
                        new LocalStore(file.toAbsolutePath().getParent()),
                        file.getFileName().toString(),
                        key);
            }
        } catch (BackupDownload.Failed e) {
            int code = e.status() == 401 || e.status() == 403
                    ? ExitCodes.NO_PERMISSION
                    : e.status() == 0 || e.status() >= 500 ? ExitCodes.BACKEND_UNAVAILABLE : ExitCodes.USAGE;
            throw new CliFailure(code, e.getMessage(), e);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (BackupStore.Failed e) {
            throw new CliFailure(BackupStoreOptions.exitCode(e), e.getMessage(), e);
        } catch (BackupDownload.Unwritable e) {
            throw new CliFailure(ExitCodes.CANNOT_CREATE, e.getMessage(), e);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.CANNOT_CREATE, "cannot write " + out + ": " + Main.withRootCause(e), e);
        } finally {
            deleteQuietly(plain);
            if (target != null) {
                target.close();
            }
        }
        BackupFile.Header h = saved.header();
        PrintWriter w = spec.commandLine().getOut();
        w.printf(
                "Saved the lock table of cluster %s at log index %d (term %d, taken %s), %d bytes, SHA-256 checked%s,"
                        + " to %s%n",
                h.clusterId() == null ? "(no id yet)" : h.clusterId(),
                h.index(),
                h.term(),
                Instant.ofEpochMilli(h.takenAtMillis()),
                stored,
                key == null ? "" : ", encrypted (AES-256-GCM)",
                out);
        w.flush();
        return ExitCodes.OK;
    }

    private static Path tmp() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a temporary file: the system's cleaner takes it
            }
        }
    }
}
