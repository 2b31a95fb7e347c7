package io.holdfast.file;

import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.UnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The files of the keys in {@code keys/}: one file per key, and the journal of a transaction that
 * changes several.
 *
 * <p><b>Names.</b> {@code HEAD.HASH.key}: {@code HEAD} is the hex of the key's first {@value
 * #HEAD_BYTES} UTF-8 bytes (fewer for a shorter key), {@code HASH} the SHA-256 of all of them, as
 * for lock files ({@link LockFileNames}). The hash alone decides the file; the head lets a listing
 * skip, by name, the files whose key cannot start with the prefix. At most 64 + 1 + 64 + 4 = 133
 * ASCII bytes, whatever the key (a key is up to 512 bytes: its hex would not fit a file name).
 *
 * <p><b>A key file</b>: a magic number, the version, the expiry (milliseconds since 1970 on the
 * host's wall clock, 0 for none), the key, the owning session (empty for none, see {@link
 * SessionFiles}), the value and a CRC32C. It is replaced by writing {@code
 * NAME.tmp}, forcing it (unless {@code fsync=false}), renaming it over the key and forcing the
 * directory, so a crash leaves the old or the new file. A damaged file is {@link
 * UnavailableException}, never read as a value.
 *
 * <p><b>The journal</b> ({@value #JOURNAL}) holds every key file a transaction writes or deletes,
 * whole. Written to a temporary file, forced and renamed into place, it is the transaction's commit
 * point; then each key is replaced as above and the journal deleted. Whoever next takes the
 * directory's lock for keys finds a journal left by a crash and applies it again first ({@link
 * FileKeys}): applying it twice gives the same files. So a transaction is in all of its keys or in
 * none, across a crash at any point.
 */
final class KeyFiles {
    static final String KEYS = "keys";
    static final String SUFFIX = ".key";
    static final String JOURNAL = "journal";
    static final int HEAD_BYTES = 32;
    private static final int MAGIC = 0x48464b31; // "HFK1"
    private static final int JOURNAL_MAGIC = 0x48464a31; // "HFJ1"

    /** One key as stored: its value, version, expiry (0: none) and owning session (null: none). */
    record Entry(String key, long version, byte[] value, long expiresAt, String owner) {
        KeyEntry toKeyEntry() {
            return new KeyEntry(key, version, value, owner);
        }

        byte[] utf8() {
            return key.getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * The page of {@code found} whose keys start with {@code prefix} and come after {@code after}
     * ("" or null: from the first), in byte order of their UTF-8 (not Java's UTF-16 order).
     */
    static KeyListing page(List<Entry> found, byte[] prefix, String after, int limit) {
        byte[] from = after == null ? new byte[0] : after.getBytes(StandardCharsets.UTF_8);
        List<Entry> page = found.stream()
                .filter(e -> {
                    byte[] key = e.utf8();
                    return key.length >= prefix.length
                            && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)
                            && (from.length == 0 || Arrays.compareUnsigned(key, from) > 0);
                })
                .sorted((a, b) -> Arrays.compareUnsigned(a.utf8(), b.utf8()))
                .limit(limit + 1L)
                .toList();
        List<KeyEntry> entries =
                page.stream().limit(limit).map(Entry::toKeyEntry).toList();
        return new KeyListing(entries, page.size() > limit, "");
    }

    private final Path dir;
    private final boolean fsync;

    KeyFiles(Path root, boolean fsync) {
        this.dir = root.resolve(KEYS);
        this.fsync = fsync;
    }

    Path dir() {
        return dir;
    }

    /** The file name of {@code key}. */
    static String fileName(String key) {
        return head(key.getBytes(StandardCharsets.UTF_8)) + "." + LockFileNames.sha256(key) + SUFFIX;
    }

    /** The hex of the first {@value #HEAD_BYTES} bytes (or fewer) of {@code utf8}. */
    static String head(byte[] utf8) {
        return HexFormat.of().formatHex(utf8, 0, Math.min(utf8.length, HEAD_BYTES));
    }

    /**
     * Whether a file may hold a key that starts with {@code prefix}, by its name alone: its head
     * starts with the prefix's head, and is whole where the prefix is longer than a head.
     */
    static boolean mayStartWith(String fileName, byte[] prefix) {
        int dot = fileName.indexOf('.');
        if (dot < 0 || !fileName.endsWith(SUFFIX)) {
            return false;
        }
        String head = fileName.substring(0, dot);
        String wanted = head(prefix);
        return head.startsWith(wanted) && (prefix.length < HEAD_BYTES || head.length() == wanted.length());
    }

    /** The names of the key files, in no order. */
    List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return names;
        }
        try (var files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            files.forEach(f -> names.add(f.getFileName().toString()));
        }
        return names;
    }

    /** The key in file {@code name}, or empty if there is none. */
    Optional<Entry> read(String name) throws IOException {
        Path file = dir.resolve(name);
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
        return Optional.of(decode(ByteBuffer.wrap(all), file));
    }

    /** Writes {@code entry} to its file, or deletes the file for a null entry. */
    void write(String name, Entry entry) throws IOException {
        Path file = dir.resolve(name);
        if (entry == null) {
            if (Files.deleteIfExists(file) && fsync) {
                Directory.syncDirectory(dir);
            }
            return;
        }
        replace(file, encode(entry));
    }

    /** Writes the journal of {@code changes} (file name to entry, null for a deletion): the commit point. */
    void writeJournal(Map<String, Entry> changes) throws IOException {
        List<byte[]> parts = new ArrayList<>();
        int size = 8;
        for (Map.Entry<String, Entry> change : changes.entrySet()) {
            byte[] name = change.getKey().getBytes(StandardCharsets.US_ASCII);
            byte[] content = change.getValue() == null ? new byte[0] : encode(change.getValue());
            parts.add(name);
            parts.add(content);
            size += 8 + name.length + content.length;
        }
        ByteBuffer b = ByteBuffer.allocate(size + 4);
        b.putInt(JOURNAL_MAGIC).putInt(changes.size());
        for (int i = 0; i < parts.size(); i += 2) {
            b.putInt(parts.get(i).length)
                    .put(parts.get(i))
                    .putInt(parts.get(i + 1).length)
                    .put(parts.get(i + 1));
        }
        replace(dir.resolve(JOURNAL), sealed(b));
    }

    /**
     * The changes of a journal a crash left, or empty when there is none.
     *
     * @throws UnavailableException when the journal is damaged
     */
    Optional<Map<String, Entry>> readJournal() throws IOException {
        Path file = dir.resolve(JOURNAL);
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(all);
        if (all.length < 12 || b.getInt() != JOURNAL_MAGIC || !checksumMatches(all)) {
            throw damaged(file, "it is not a whole journal");
        }
        Map<String, Entry> changes = new LinkedHashMap<>();
        for (int n = b.getInt(); n > 0; n--) {
            byte[] name = new byte[b.getInt()];
            b.get(name);
            byte[] content = new byte[b.getInt()];
            b.get(content);
            changes.put(
                    new String(name, StandardCharsets.US_ASCII),
                    content.length == 0 ? null : decode(ByteBuffer.wrap(content), file));
        }
        return Optional.of(changes);
    }

    /** Removes the journal once its changes are all in place. */
    void deleteJournal() throws IOException {
        Files.deleteIfExists(dir.resolve(JOURNAL));
        if (fsync) {
            Directory.syncDirectory(dir);
        }
    }

    private static byte[] encode(Entry e) {
        byte[] key = e.key().getBytes(StandardCharsets.UTF_8);
        byte[] owner = e.owner() == null ? new byte[0] : e.owner().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 8 + 8 + 4 + key.length + 4 + owner.length + 4 + e.value().length + 4);
        b.putInt(MAGIC).putLong(e.version()).putLong(e.expiresAt());
        b.putInt(key.length).put(key).putInt(owner.length).put(owner);
        b.putInt(e.value().length).put(e.value());
        return sealed(b);
    }

    private static byte[] sealed(ByteBuffer b) {
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    private static boolean checksumMatches(byte[] all) {
        CRC32C crc = new CRC32C();
        crc.update(all, 0, all.length - 4);
        return (int) crc.getValue() == ByteBuffer.wrap(all, all.length - 4, 4).getInt();
    }

    private static Entry decode(ByteBuffer b, Path file) {
        byte[] all = b.array();
        try {
            if (all.length < 36 || b.getInt() != MAGIC || !checksumMatches(all)) {
                throw damaged(file, "it is not a whole key file");
            }
            long version = b.getLong();
            long expiresAt = b.getLong();
            byte[] key = new byte[b.getInt()];
            b.get(key);
            byte[] owner = new byte[b.getInt()];
            b.get(owner);
            byte[] value = new byte[b.getInt()];
            b.get(value);
            return new Entry(
                    new String(key, StandardCharsets.UTF_8),
                    version,
                    value,
                    expiresAt,
                    owner.length == 0 ? null : new String(owner, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            if (e instanceof UnavailableException u) {
                throw u;
            }
            throw damaged(file, "its lengths do not fit");
        }
    }

    private static UnavailableException damaged(Path file, String why) {
        return new UnavailableException("file: " + file + " is damaged (" + why
                + "); restore it from a backup or delete it (a key file: the key is then absent)");
    }

    private void replace(Path file, byte[] content) throws IOException {
        Files.createDirectories(dir);
        Directory.replace(file, ByteBuffer.wrap(content), fsync);
    }
}
