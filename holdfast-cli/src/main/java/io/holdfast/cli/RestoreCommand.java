package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.server.backup.BackupFile;
import io.holdfast.server.backup.Restore;
import io.holdfast.server.config.StartupException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
            "Exit code: 0; 64 usage error or a damaged backup; 71 the data directory holds a cluster's data (its"
                    + " id or Raft data) already or cannot be written."
        })
final class RestoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "A file written by holdfast backup.")
    Path file;

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
        Restore.Seeded seeded;
        BackupFile.Verified backup;
        try {
            backup = BackupFile.read(file);
            seeded = Restore.seed(backup, dataDir, tokenFloor);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (StartupException e) {
            throw new CliFailure(ExitCodes.SERVER_START_FAILED, e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new CliFailure(
                    ExitCodes.SERVER_START_FAILED, "cannot restore into " + dataDir + ": " + Main.withRootCause(e), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(
                "Seeded %s from %s (SHA-256 checked; a backup of cluster %s): log index %d, %d registers, no sessions;"
                        + " the next fencing token is above %d.%n"
                        + "Seed every member from the same file, then start them with holdfast server: the restored"
                        + " cluster is a new cluster, and its first leader gives it a new id.%n",
                dataDir,
                file,
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
