package io.holdfast.file;

import io.holdfast.ConflictException;
import io.holdfast.ExpectedVersions;
import io.holdfast.UnavailableException;
import io.holdfast.Versioned;
import io.holdfast.store.Deadline;
import io.holdfast.store.Grant;
import io.holdfast.store.StoreRegisters;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.zip.CRC32C;

/**
 * Registers in the store directory: one file per key in {@code registers/}, named as lock files are
 * ({@link LockFileNames}) with {@code .reg} for {@code .lock}.
 *
 * <p><b>What it guarantees.</b> A write runs under the directory's counter-file lock, the mutex
 * every grant of every process takes, on the directory's I/O thread: it reads the register, compares
 * the version, checks a fence (the grant is still this JVM's with its OS file lock in place: a lock
 * nobody else can be granted while it is held, since grants take the same mutex) and replaces the
 * file. The new content goes to {@code NAME.tmp} first, is forced to disk (unless the URI says {@code
 * fsync=false}), then renamed over the register and the directory forced: a crash leaves the old or
 * the new register, never a torn one. A write wakes this JVM's watches of the register ({@link
 * Signals}); watches in other processes see it at their next poll. Each file carries a checksum (CRC32C); a damaged one is
 * reported as {@link UnavailableException}, never read as a value.
 *
 * <p><b>What it does not guarantee.</b> More than the file system gives: on a network file system
 * without working POSIX locks two hosts can write at once, as they can lock at once.
 */
final class FileRegisters implements StoreRegisters {
    static final String REGISTERS = "registers";
    private static final int MAGIC = 0x48465231; // "HFR1"

    private final Directory directory;
    private final boolean fsync;
    private final Supplier<Deadline> deadline;

    FileRegisters(Directory directory, boolean fsync, Supplier<Deadline> deadline) {
        this.directory = directory;
        this.fsync = fsync;
        this.deadline = deadline;
    }

    private Path file(String key) {
        String name = LockFileNames.of(key);
        return directory
                .root()
                .resolve(REGISTERS)
                .resolve(name.substring(0, name.length() - LockFileNames.SUFFIX.length()) + ".reg");
    }

    @Override
    public Optional<Versioned> read(String key) {
        Path file = file(key);
        return directory.call("reading register " + key, deadline.get(), () -> read(file, key), orphan -> {});
    }

    @Override
    public Versioned write(String key, long expectedVersion, byte[] value, Grant fence) {
        Path file = file(key);
        Deadline by = deadline.get();
        Versioned written = directory.call(
                "writing register " + key,
                by,
                () -> directory.exclusively(by, () -> {
                    long found = read(file, key).map(Versioned::version).orElse(0L);
                    if (fence != null && !directory.holds(fence)) {
                        throw new ConflictException(
                                "fencing token " + fence.token() + " is no longer a current grant of "
                                        + fence.request().name(),
                                found);
                    }
                    if (found != expectedVersion) {
                        throw ExpectedVersions.conflict(key, expectedVersion, found);
                    }
                    replace(file, expectedVersion + 1, value);
                    return new Versioned(key, expectedVersion + 1, value);
                }),
                orphan -> {});
        directory.signals().signal(Signals.register(key)); // this JVM's watches of it read at once
        return written;
    }

    /** The register in {@code file}, or empty if there is none. */
    static Optional<Versioned> read(Path file, String key) throws IOException {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException absent) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(all);
        if (all.length < 20 || b.getInt() != MAGIC) {
            throw damaged(file, "it does not start like a register file");
        }
        long version = b.getLong();
        int length = b.getInt();
        if (length < 0 || length != all.length - 20) {
            throw damaged(file, "its length says " + length + " bytes of value in a file of " + all.length);
        }
        byte[] value = new byte[length];
        b.get(value);
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        if ((int) crc.getValue() != b.getInt()) {
            throw damaged(file, "its checksum does not match");
        }
        return Optional.of(new Versioned(key, version, value));
    }

    private static UnavailableException damaged(Path file, String why) {
        return new UnavailableException("file: the register file " + file + " is damaged (" + why
                + "); restore it from a backup or delete it to start the register over");
    }

    /** Writes the register beside its file, forces it, and renames it over the old one. */
    private void replace(Path file, long version, byte[] value) throws IOException {
        Files.createDirectories(file.getParent());
        ByteBuffer b = ByteBuffer.allocate(20 + value.length);
        b.putInt(MAGIC).putLong(version).putInt(value.length).put(value);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        b.flip();
        Directory.replace(file, b, fsync);
    }
}
