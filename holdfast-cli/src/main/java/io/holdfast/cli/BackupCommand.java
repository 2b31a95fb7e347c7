package io.holdfast.cli;

import io.holdfast.model.TableCopy;
import io.holdfast.server.BackupFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast backup --out FILE}: a consistent copy of a running cluster's lock table, taken by
 * its leader after a read barrier, written to FILE with its log index, format version and checksum
 * ({@link BackupFile}). {@code holdfast restore} seeds a new cluster from it.
 */
@Command(
        name = "backup",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Save a consistent copy of a running cluster's lock table (registers, access rules, holds) to FILE,"
                    + " taken by the leader; admin only when access control is on. See docs/operations.md.",
            "Exit code: 0; 69 backend unavailable; 64 usage error or a backend that is no Holdfast server;"
                    + " 73 the file cannot be written; 77 not allowed."
        })
final class BackupCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the backup.")
    Path out;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() throws InterruptedException {
        TableCopy copy = ServerCalls.call(backend.uri(), "backups", t -> t.backup(null));
        try {
            BackupFile.write(copy, out);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.CANNOT_CREATE, "cannot write " + out + ": " + Main.withRootCause(e), e);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf(
                "Saved the lock table at log index %d (term %d, taken %s), %d bytes, to %s%n",
                copy.index(), copy.term(), Instant.ofEpochMilli(copy.takenAtMillis()), copy.table().length, out);
        w.flush();
        return ExitCodes.OK;
    }
}
