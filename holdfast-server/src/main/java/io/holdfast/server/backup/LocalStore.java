package io.holdfast.server.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Backups as files in one local directory (which may be shared storage): what {@code --backup-dir
 * DIR} has always meant. A file is written next to its name, synced and renamed ({@link
 * BackupFile#writeAtomically}); nothing is kept in memory.
 *
 * <p><b>Guarantees.</b> As {@link BackupStore}'s: a backup appears whole or not at all. <b>Not
 * guaranteed:</b> the directory is not created here (the schedule creates it at start), so one
 * removed later fails each backup until it is back. Failure story: the shared mount under the
 * directory goes read-only; each scheduled backup fails with "… Read-only file system", its
 * temporary file is gone, and the older backups stay.
 */
public final class LocalStore implements BackupStore {
    private final Path dir;

    public LocalStore(Path dir) {
        this.dir = dir;
    }

    @Override
    public String locate(String name) {
        return dir.resolve(name).toString();
    }

    @Override
    public long put(String name, BackupFile.Writer writer) throws IOException {
        Path file = dir.resolve(name);
        BackupFile.writeAtomically(file, writer);
        return Files.size(file);
    }

    @Override
    public void get(String name, Path into) throws IOException {
        try {
            Files.copy(dir.resolve(name), into, StandardCopyOption.COPY_ATTRIBUTES);
        } catch (NoSuchFileException e) {
            throw new Failed(Failed.Kind.MISSING, "no backup file " + locate(name), e);
        }
    }

    @Override
    public List<String> list(String start) throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(start))
                    .forEach(names::add);
        }
        return names;
    }

    @Override
    public void delete(String name) throws IOException {
        Files.deleteIfExists(dir.resolve(name));
    }

    @Override
    public void close() {}
}
