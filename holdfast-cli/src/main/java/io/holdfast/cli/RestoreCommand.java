package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.BackupKey;
import io.holdfast.server.backup.BackupStore;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.backup.S3Store;
import io.holdfast.server.backup.StoredBackups;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast restore FILE --data-dir DIR}: seeds an empty data directory from a backup, for a
 * member of a new cluster ({@link Restore}). Seed every member from the same file, then start each
 * with {@code holdfast server} as for a first start.
 */
@Command(
        name = "restore",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Seed an empty data directory from a backup, for one member of a new cluster: do it for every member"
                    + " with the same FILE, then start them. The new cluster has the backup's registers and access"
                    + " rules, no session and no hold, and fencing tokens above every token of the old cluster"
                    + " (its last token + 2^40, or --token-floor). See docs/operations.md.",
            "Exit code: 0; 64 usage error, a damaged or missing backup, a bad key file, or a wrong key; 69 the"
                    + " object store unreachable; 71 the data directory holds a cluster's data (its id or Raft data)"
                    + " already or cannot be written; 77 the object store refused the credentials."
        })
final class RestoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            index = "0",
            paramLabel = "FILE|s3://BUCKET/PREFIX/NAME",
            description = "A backup written by holdfast backup or a scheduled backup: a file, or an object in an"
                    + " S3-compatible store.")
    String file;

    @Mixin
    BackupStoreOptions store;

    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The new member's data directory.")
    Path dataDir;

    @Option(
            names = "--token-floor",
            paramLabel = "N",
            description = "The new cluster's tokens start above N (default: the backup's last token + 2^40).")
    long tokenFloor;

    @Override
    public Integer call() {
        if (tokenFloor < 0) {
            throw new CliFailure(ExitCodes.USAGE, "--token-floor must be 0 or more, not " + tokenFloor);
        }
        BackupKey key = store.key();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Restore.Seeded seeded;
        BackupFile.Verified backup;
        try {
            if (S3Store.isS3(file)) {
                String[] object = S3Store.splitObject(file);
                try (S3Store s3 = store.s3(object[0], key, tmp)) {
                    backup = StoredBackups.load(s3, object[1], key, tmp);
                }
            } else {
                backup = StoredBackups.load(Path.of(file), key, tmp);
            }
            seeded = Restore.seed(backup, dataDir, tokenFloor);
        } catch (CliFailure e) {
            throw e;
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (BackupStore.Failed e) {
            throw new CliFailure(BackupStoreOptions.exitCode(e), e.getMessage(), e);
        } catch (StartupException e) {
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new CliFailure(
                    ExitCodes.SERVER_START_FAILED, "cannot restore into " + dataDir + ": " + Main.withRootCause(e), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(
                "Seeded %s from %s (SHA-256 checked%s; a backup of cluster %s): log index %d, %d registers, no sessions;"
                        + " the next fencing token is above %d.%n"
                        + "Seed every member from the same file, then start them with holdfast server: the restored"
                        + " cluster is a new cluster, and its first leader gives it a new id.%n",
                dataDir,
                file,
                key == null ? "" : ", decrypted",
                backup.header().clusterId() == null
                        ? "(no id)"
                        : backup.header().clusterId(),
                seeded.index(),
                seeded.registers(),
                seeded.lastToken());
        w.flush();
        return ExitCodes.OK;
    }
}
