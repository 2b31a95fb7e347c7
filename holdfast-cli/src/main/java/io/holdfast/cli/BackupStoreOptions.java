package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.server.backup.BackupKey;
import io.holdfast.server.backup.BackupStore;
import io.holdfast.server.backup.S3Store;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options of {@code holdfast backup}, {@code restore} and {@code server} for where backups are
 * kept and how they are encrypted (a picocli {@code @Mixin}): {@code --backup-key FILE}, {@code
 * --s3-endpoint URL}, {@code --s3-region REGION}. Credentials for {@code s3://} come from the
 * environment only ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}), never from an option.
 *
 * <p>Failure story: a key file of 33 bytes (32 and a newline that an editor added) is refused in one
 * line before anything is taken or written, exit 64; its base64 would have been read.
 */
final class BackupStoreOptions implements Main.NeedsEnvironment {
    @Option(
            names = "--backup-key",
            paramLabel = "FILE",
            description = "Encrypt backups (AES-256-GCM) with the key in FILE: 32 random bytes, or their base64"
                    + " (head -c 32 /dev/urandom | base64 > FILE). Required for s3:// targets; a restore needs"
                    + " the key the backup was written with.")
    Path keyFile;

    @Option(
            names = "--s3-endpoint",
            paramLabel = "URL",
            description = "An S3-compatible server (http://127.0.0.1:9000), addressed path-style; default: AWS S3"
                    + " in --s3-region. Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the"
                    + " environment.")
    URI endpoint;

    @Option(
            names = "--s3-region",
            paramLabel = "REGION",
            defaultValue = S3Store.DEFAULT_REGION,
            description = "The region requests are signed for (default: ${DEFAULT-VALUE}).")
    String region;

    private Map<String, String> env = Map.of();

    @Override
    public void environment(Map<String, String> env) {
        this.env = env;
    }

    /** The key of {@code --backup-key}, or null without one; a bad file is a usage error. */
    BackupKey key() {
        if (keyFile == null) {
            return null;
        }
        try {
            return BackupKey.read(keyFile);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        } catch (IOException e) {
            throw new CliFailure(ExitCodes.USAGE, "cannot read the backup key file " + keyFile + ": " + e, e);
        }
    }

    /**
     * The store at {@code s3://BUCKET/PREFIX}, which the caller closes; an upload's local copy goes
     * into {@code scratch}.
     *
     * @throws CliFailure ({@link ExitCodes#USAGE}) for a bad address, no credentials, or no key
     */
    S3Store s3(String target, BackupKey key, Path scratch) {
        if (key == null) {
            throw new CliFailure(
                    ExitCodes.USAGE,
                    target + " needs --backup-key FILE: backups kept in an object store are encrypted");
        }
        try {
            return S3Store.open(target, endpoint, region, env, scratch);
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
    }

    /** The exit code of a store's failure. */
    static int exitCode(BackupStore.Failed e) {
        return switch (e.kind()) {
            case MISSING -> ExitCodes.USAGE;
            case DENIED -> ExitCodes.NO_PERMISSION;
            case UNAVAILABLE -> ExitCodes.BACKEND_UNAVAILABLE;
        };
    }
}
