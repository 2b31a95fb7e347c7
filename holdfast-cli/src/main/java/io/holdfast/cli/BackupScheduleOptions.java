package io.holdfast.cli;

import io.holdfast.server.HoldfastServer;
import io.holdfast.server.backup.BackupKey;
import io.holdfast.server.backup.Backups;
import io.holdfast.server.backup.LocalStore;
import io.holdfast.server.backup.S3Store;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The scheduled backups of {@code holdfast server} (a picocli {@code @Mixin}): {@code --backup-every
 * DURATION}, {@code --backup-dir DIR|s3://BUCKET/PREFIX}, {@code --backup-keep N}, and where and how
 * they are kept ({@link BackupStoreOptions}).
 *
 * <p><b>Guarantees.</b> Every option error, a bad key file and a malformed {@code s3://} address are
 * usage errors from {@link #plan}, before the node starts: a server never starts to fail its first
 * backup on an option. What cannot be known before (a bucket that does not answer) is the
 * schedule's to log and count, never fatal (docs/operations.md).
 *
 * <p>Failure story: {@code --backup-every 1h} without {@code --backup-dir}: one line, "--backup-every
 * needs --backup-dir DIR", exit 64, and no node started.
 */
final class BackupScheduleOptions {
    @Option(
            names = "--backup-every",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Write a backup of the lock table every DURATION into --backup-dir, from whichever member"
                    + " leads then (give every member the same options); a failure is logged and counted, never"
                    + " fatal. See docs/operations.md.")
    Duration every;

    @Option(
            names = "--backup-dir",
            paramLabel = "DIR|s3://BUCKET/PREFIX",
            description = "Where scheduled backups go, named holdfast-<cluster id>-<UTC time>.hfbk: a directory,"
                    + " or a bucket's prefix in an S3-compatible store (needs --backup-key).")
    String dir;

    @Mixin
    BackupStoreOptions store;

    @Option(
            names = "--backup-keep",
            paramLabel = "N",
            defaultValue = "7",
            description =
                    "How many of the newest scheduled backups to keep in --backup-dir (default: ${DEFAULT-VALUE}).")
    int keep;

    /** What the options ask for, checked: nothing, or a schedule to start on a running server. */
    interface Plan extends AutoCloseable {
        /** Starts the schedule on {@code server}; closes the server and fails if it cannot. */
        void start(HoldfastServer server);

        /** Lets go of what the plan holds when the server never started. */
        @Override
        void close();
    }

    /**
     * The schedule the options ask for, every option checked and the key read.
     *
     * @param env the environment (the store's credentials)
     * @param dataDir the node's data directory (an S3 upload's scratch space)
     * @throws CliFailure a usage error (exit 64) for any bad option
     */
    Plan plan(Map<String, String> env, Path dataDir) {
        if (every == null && dir != null) {
            throw new CliFailure(ExitCodes.USAGE, "--backup-dir needs --backup-every DURATION");
        }
        if (every != null && dir == null) {
            throw new CliFailure(ExitCodes.USAGE, "--backup-every needs --backup-dir DIR");
        }
        if (every != null && (every.isZero() || every.isNegative() || keep < 1)) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    keep < 1
                            ? "--backup-keep must be 1 or more, not " + keep
                            : "--backup-every must be more than 0, not " + every);
        }
        if (every == null && (store.keyFile != null || store.endpoint != null)) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    (store.keyFile != null ? "--backup-key" : "--s3-endpoint") + " needs --backup-every DURATION");
        }
        if (every == null) {
            return new Plan() {
                @Override
                public void start(HoldfastServer server) {}

                @Override
                public void close() {}
            };
        }
        store.environment(env);
        BackupKey key = store.key();
        S3Store s3 = S3Store.isS3(dir) ? store.s3(dir, key, Backups.scratch(dataDir)) : null;
        return new Plan() {
            @Override
            public void start(HoldfastServer server) {
                if (s3 != null) {
                    server.scheduleBackups(every, s3, key, keep);
                    return;
                }
                try {
                    Path local = Path.of(dir);
                    Files.createDirectories(local);
                    server.scheduleBackups(every, new LocalStore(local), key, keep);
                } catch (IOException e) {
                    server.close();
                    throw new CliFailure(
                            ExitCodes.SERVER_START_FAILED,
                            "cannot create the backup directory " + dir + ": " + Main.withRootCause(e),
                            e);
                }
            }

            @Override
            public void close() {
                if (s3 != null) {
                    s3.close();
                }
            }
        };
    }
}
