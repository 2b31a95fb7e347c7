package io.holdfast.server.backup;

import io.holdfast.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A backup file into a {@link BackupStore} and back, encrypted with the operator's {@link
 * BackupKey} or not: what {@code holdfast backup} and {@code holdfast restore} do around the
 * download and the seeding.
 *
 * <p><b>Guarantees.</b> {@link #load} returns only a backup whose tag (when encrypted) and SHA-256
 * checked and whose table loads; every refusal is one line naming the backup as the operator gave
 * it (its path or {@code s3://} address), never a temporary file. The local copies it makes are
 * deleted whatever happens.
 *
 * <p><b>Not guaranteed.</b> That the plain copy never touches the disk: it is written in {@code
 * scratch} (the system's temporary directory for the CLI) while it is checked, then deleted.
 *
 * <p>Failure story: a backup in the bucket was overwritten by a tool that re-encoded it. {@code
 * holdfast restore s3://…} fails with "s3://… cannot be decrypted: wrong key, or the backup was
 * changed", exit 64, and the data directory is untouched.
 */
public final class StoredBackups {
    private StoredBackups() {}

    /**
     * Stores the checked backup file {@code plain} as {@code name}, encrypted with {@code key}
     * (null: as it is).
     *
     * @return the bytes stored
     */
    public static long save(Path plain, BackupStore store, String name, BackupKey key) throws IOException {
        if (key != null) {
            return store.put(name, out -> key.encrypt(plain, out));
        }
        return store.put(name, out -> {
            try (InputStream in = Files.newInputStream(plain)) {
                return in.transferTo(out);
            }
        });
    }

    /**
     * Reads the backup {@code name} from {@code store}, decrypts it with {@code key} when it is
     * encrypted, and checks it ({@link BackupFile#read}).
     *
     * @throws InvalidArgumentException in one line: missing key, wrong key or a changed byte,
     *     damage, or a plain backup where a key was given
     * @throws BackupStore.Failed when the store has no such backup, refuses, or cannot be reached
     */
    public static BackupFile.Verified load(BackupStore store, String name, BackupKey key, Path scratch)
            throws IOException {
        Path dir = Files.createTempDirectory(scratch, "holdfast-restore-");
        Path copy = dir.resolve("stored.hfbk");
        try {
            store.get(name, copy);
            return read(copy, store.locate(name), key, dir);
        } finally {
            Files.deleteIfExists(copy);
            Files.deleteIfExists(dir.resolve("plain.hfbk"));
            Files.deleteIfExists(dir);
        }
    }

    /** {@link #load} of a local file, which is read where it is when it is not encrypted. */
    public static BackupFile.Verified load(Path file, BackupKey key, Path scratch) throws IOException {
        if (!Files.isRegularFile(file)) {
            return BackupFile.read(file); // its refusal names the file
        }
        Path dir = Files.createTempDirectory(scratch, "holdfast-restore-");
        try {
            return read(file, file.toString(), key, dir);
        } finally {
            Files.deleteIfExists(dir.resolve("plain.hfbk"));
            Files.deleteIfExists(dir);
        }
    }

    private static BackupFile.Verified read(Path file, String name, BackupKey key, Path dir) throws IOException {
        boolean encrypted = BackupKey.isEncrypted(file);
        if (encrypted && key == null) {
            throw new InvalidArgumentException(name + " is encrypted: give its key with --backup-key FILE");
        }
        if (!encrypted && key != null) {
            // Given a key, only what that key wrote is taken: a plain file in its place could be anyone's.
            throw new InvalidArgumentException(name
                    + " is not encrypted, but --backup-key was given: restore it without the key if it is" + " yours");
        }
        Path plain = file;
        if (encrypted) {
            plain = dir.resolve("plain.hfbk");
            key.decrypt(file, plain, name);
        }
        try {
            return BackupFile.read(plain);
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException(e.getMessage().replace(plain.toString(), name));
        }
    }
}
