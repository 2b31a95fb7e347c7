package io.holdfast.core;

import io.holdfast.model.Reply;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UTFDataFormatException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The snapshot format of {@link LockTable}, version 8 (version 1, without identities and access
 * rules, version 2, without the members' protocol versions, version 3, without multi-locks,
 * version 4, without the deny list of tokens, version 5, without keys' lifetimes, version 6,
 * without the quotas while access control is off, and version 7, without election records, are
 * read too). A table without an election record is written in version 7 if its quotas while access
 * control is off are not the defaults; else in version 6 if it has anything of version 6 ({@link
 * KeySnapshot#needed}), else in version 5 if its deny list holds an id, else in 4 if it holds a
 * multi-lock's wait or remembers a multi-lock's grant, else in 3, byte for byte, so that a build of
 * an older protocol version can read the snapshots of a cluster that has not used what it lacks
 * ({@link Vocabulary}). Numbers big-endian; strings as {@link DataOutputStream#writeUTF}.
 *
 * <pre>
 * magic "HFSN" (4 bytes), format version (int), body length (int), body, CRC32C of body (int)
 * body: now, lastToken (longs)
 *   sessions (int count, sorted by id): id, identity (bool present, string; v2), clientName,
 *     ttlMillis, lockDelayMillis, openedAt,
 *     ackedBelow, replies (int count, sorted by seq: seq, reply)
 *   resources (int count, sorted by name): name, semaphore (bool), maxPermits, blockedUntil,
 *     holders in token order (int count: sessionId, owner, token, mode, permits, grantedAt,
 *       leaseMillis, leaseDeadline, count),
 *     waiters in queue order (int count: sessionId, owner, seq, mode, permits, enqueuedAt,
 *       deadline, leaseMillis, and in v4 members: 0 for an acquire's wait, else the number of
 *       names of the multi-lock it belongs to (1 or more), whose other members are the waiters of
 *       the same session and seq in the other queues)
 *   registers (int count, sorted by key): key, version, value (int length, bytes)
 *   access rules (v2): bool present, then int length and the UTF-8 of their canonical text
 *   member versions (v3; int count, sorted by member id): member id, protocol version (int)
 *   revoked tokens (v5; int count, sorted by id): jti, until (long, the table's time it is dropped at)
 *   key lifetimes (v6; see {@link KeySnapshot})
 *   quotas while access control is off (v7; byte count, then by name: name, value (long))
 *   election records (v8; see {@link ElectionRecords})
 * </pre>
 *
 * The encoding is canonical: equal tables give equal bytes. Reading checks the magic, the version,
 * the checksum and every reference before a table is returned, so a bad snapshot is refused whole.
 * The resources are read and written by {@link QueueSnapshot}, the keys' lifetimes by {@link
 * KeySnapshot}; the rest, and the choice of version, here.
 */
final class SnapshotCodec {
    static final int MAGIC = 0x4846534E; // "HFSN"
    static final int VERSION = 8;

    /** The version written while the table holds no election record ({@link ElectionRecords}). */
    static final int VERSION_WITHOUT_ELECTION_RECORDS = 7;

    /** The version written while the quotas with access control off are the defaults. */
    static final int VERSION_WITHOUT_OPEN_QUOTAS = 6;

    static final int VERSION_WITHOUT_KEY_LIFETIMES = 5; // while no key has a lifetime (KeySnapshot)
    /** The version written while the deny list of tokens is empty and multi-locks are in use. */
    static final int VERSION_WITHOUT_REVOKED_TOKENS = 4;

    /** The version written while the table uses nothing of version 4. */
    static final int VERSION_WITHOUT_MULTI_LOCKS = 3;

    private static final int MAX_BODY = Integer.MAX_VALUE - 64;

    private SnapshotCodec() {}

    static void write(LockTable written, OutputStream out) throws IOException {
        TableParts table = written.parts();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(1 << 16);
        DataOutputStream body = new DataOutputStream(buffer);
        int version = version(table);
        writeBody(table, body, version);
        body.flush();
        byte[] bytes = buffer.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        DataOutputStream data = new DataOutputStream(out);
        data.writeInt(MAGIC);
        data.writeInt(version);
        data.writeInt(bytes.length);
        data.write(bytes);
        data.writeInt((int) crc.getValue());
        data.flush();
    }

    /**
     * The same bytes as {@link #write(LockTable, OutputStream)}, streamed: the body goes through a 64 KiB buffer and
     * its checksum, and its length, which comes before it, is written back in place once it is. A node writes its
     * snapshots so; in memory, the body and the copies a growing buffer makes took three times the snapshot's size
     * at once (about 350 MB at 1,000,000 held locks).
     */
    static void write(LockTable written, SnapshotOutput out) throws IOException {
        TableParts table = written.parts();
        int version = version(table);
        OutputStream raw = out.stream();
        DataOutputStream head = new DataOutputStream(raw);
        head.writeInt(MAGIC);
        head.writeInt(version);
        head.writeInt(0); // the body's length, written back below
        CRC32C crc = new CRC32C();
        // Not closed: the output is the caller's.
        DataOutputStream body =
                new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(raw, crc), 1 << 16));
        writeBody(table, body, version);
        body.flush();
        if (body.size() > MAX_BODY) { // size() stops at Integer.MAX_VALUE
            throw new IOException("the table's snapshot body is over the format's " + MAX_BODY + " bytes");
        }
        head.writeInt((int) crc.getValue());
        head.flush();
        out.patchInt(8, body.size());
    }

    /** The oldest format that holds everything in the table, so that older members can read it. */
    private static int version(TableParts table) {
        return ElectionRecords.needed(table)
                ? VERSION
                : !table.admission.openQuotas().equals(Quotas.DEFAULTS)
                        ? VERSION_WITHOUT_ELECTION_RECORDS
                        : KeySnapshot.needed(table)
                                ? VERSION_WITHOUT_OPEN_QUOTAS
                                : table.revokedTokens.size() > 0
                                        ? VERSION_WITHOUT_KEY_LIFETIMES
                                        : QueueSnapshot.usesMultiLocks(table)
                                                ? VERSION_WITHOUT_REVOKED_TOKENS
                                                : VERSION_WITHOUT_MULTI_LOCKS;
    }

    /** Whether a session of the table remembers a reply that {@code kind} accepts. */
    static boolean remembers(TableParts table, java.util.function.Predicate<Reply> kind) {
        return table.sessions.all().stream().anyMatch(s -> s.remembersAny(kind));
    }

    private static void writeBody(TableParts table, DataOutputStream out, int version) throws IOException {
        out.writeLong(table.queues.now());
        out.writeLong(table.queues.lastToken());
        // Sorted by id, each id's text made once (most sessions keep theirs as bits).
        java.util.TreeMap<String, Session> sessions = new java.util.TreeMap<>();
        for (Session s : table.sessions.all()) {
            sessions.put(s.id(), s);
        }
        out.writeInt(sessions.size());
        for (Map.Entry<String, Session> byId : sessions.entrySet()) {
            Session s = byId.getValue();
            out.writeUTF(byId.getKey());
            out.writeBoolean(s.identity != null);
            if (s.identity != null) {
                out.writeUTF(s.identity);
            }
            out.writeUTF(s.clientName);
            out.writeLong(s.ttlMillis);
            out.writeLong(s.lockDelayMillis);
            out.writeLong(s.openedAt);
            out.writeLong(s.ackedBelow);
            Map<Long, Reply> replies = s.remembered(); // in seq order
            out.writeInt(replies.size());
            for (Map.Entry<Long, Reply> e : replies.entrySet()) {
                out.writeLong(e.getKey());
                ReplyCodec.write(e.getValue(), out);
            }
        }
        QueueSnapshot.write(table, out, version);
        List<String> keys = new ArrayList<>(table.registers.map().keySet());
        keys.sort(Comparator.naturalOrder());
        out.writeInt(keys.size());
        for (String key : keys) {
            Register reg = table.registers.map().get(key);
            out.writeUTF(key);
            out.writeLong(reg.version);
            out.writeInt(reg.value.length);
            out.write(reg.value);
        }
        AccessRules rules = table.admission.rules();
        out.writeBoolean(rules != null);
        if (rules != null) {
            byte[] text = rules.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeInt(text.length);
            out.write(text);
        }
        Map<String, Integer> versions = table.memberVersions.all(); // sorted, reserved names too
        out.writeInt(versions.size());
        for (Map.Entry<String, Integer> e : versions.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeInt(e.getValue());
        }
        if (version >= 5) {
            Map<String, Long> revoked = table.revokedTokens.entries();
            out.writeInt(revoked.size());
            for (Map.Entry<String, Long> e : revoked.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
        }
        if (version >= 6) {
            KeySnapshot.write(table, out);
        }
        if (version >= 7) {
            Map<String, Long> quotas = table.admission.openQuotas().changed();
            out.writeByte(quotas.size());
            for (Map.Entry<String, Long> e : new java.util.TreeMap<>(quotas).entrySet()) {
                out.writeUTF(e.getKey());
                out.writeLong(e.getValue());
            }
        }
        if (version >= 8) {
            ElectionRecords.write(table, out);
        }
    }

    static LockTable read(InputStream in, Set<PlantedBug> bugs) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] body;
        int version;
        try {
            int magic = data.readInt();
            if (magic != MAGIC) {
                throw new SnapshotFormatException("not a Holdfast snapshot (bad magic number)");
            }
            version = data.readInt();
            if (version < 1 || version > VERSION) {
                throw new SnapshotFormatException("snapshot format version " + version
                        + " is not supported (this build reads 1 to " + VERSION + ")");
            }
            int length = data.readInt();
            if (length < 0 || length > MAX_BODY) {
                throw new SnapshotFormatException("bad snapshot length " + length);
            }
            body = data.readNBytes(length);
            if (body.length != length) {
                throw new SnapshotFormatException("snapshot is truncated: " + body.length + " of " + length + " bytes");
            }
            int expected = data.readInt();
            CRC32C crc = new CRC32C();
            crc.update(body);
            if ((int) crc.getValue() != expected) {
                throw new SnapshotFormatException("snapshot checksum does not match: the file is corrupt");
            }
        } catch (EOFException e) {
            throw new SnapshotFormatException("snapshot is truncated", e);
        }
        try {
            DataInputStream din = new DataInputStream(new ByteArrayInputStream(body));
            LockTable table = readBody(din, bugs, version);
            if (din.available() != 0) {
                throw new SnapshotFormatException(din.available() + " unexpected bytes after the snapshot body");
            }
            return table;
        } catch (SnapshotFormatException e) {
            throw e;
        } catch (EOFException | UTFDataFormatException | RuntimeException e) {
            throw new SnapshotFormatException("snapshot body is malformed: " + e, e);
        }
    }

    private static LockTable readBody(DataInputStream in, Set<PlantedBug> bugs, int format) throws IOException {
        LockTable read = new LockTable(bugs);
        TableParts table = read.parts();
        long now = in.readLong();
        long lastToken = in.readLong();
        if (lastToken < 0) {
            throw new SnapshotFormatException("negative token counter");
        }
        table.queues.restoreClock(now, lastToken);
        int sessionCount = count(in, "sessions");
        for (int i = 0; i < sessionCount; i++) {
            String id = in.readUTF();
            String identity = format >= 2 && in.readBoolean() ? in.readUTF() : null;
            Session s = table.sessions.restore(id, identity, in.readUTF(), in.readLong(), in.readLong(), in.readLong());
            if (s == null) {
                throw new SnapshotFormatException("duplicate session " + id);
            }
            s.ackedBelow = in.readLong();
            int replies = count(in, "replies");
            for (int j = 0; j < replies; j++) {
                s.remember(in.readLong(), ReplyCodec.read(in));
            }
        }
        QueueSnapshot.read(table, in, format, lastToken);
        int registerCount = count(in, "registers");
        for (int i = 0; i < registerCount; i++) {
            String key = in.readUTF();
            long version = in.readLong();
            int length = in.readInt();
            if (length < 0 || length > Limits.MAX_VALUE_BYTES || version < 1) {
                throw new SnapshotFormatException("bad register " + key);
            }
            byte[] value = in.readNBytes(length);
            if (value.length != length) {
                throw new EOFException();
            }
            table.registers.map().put(key, new Register(version, value));
        }
        if (format >= 2 && in.readBoolean()) {
            int length = in.readInt();
            if (length < 0 || length > in.available()) {
                throw new SnapshotFormatException("bad access rules length " + length);
            }
            byte[] text = in.readNBytes(length);
            try {
                table.admission.restoreRules(
                        AccessRules.parse(new String(text, java.nio.charset.StandardCharsets.UTF_8)));
            } catch (io.holdfast.InvalidArgumentException e) {
                throw new SnapshotFormatException("the snapshot's access rules do not parse: " + e.getMessage());
            }
        }
        if (format >= 3) {
            int members = count(in, "member versions");
            for (int i = 0; i < members; i++) {
                String member = in.readUTF();
                int version = in.readInt();
                if (version < 1 || !table.memberVersions.restore(member, version)) {
                    throw new SnapshotFormatException("bad member version " + member + "=" + version);
                }
            }
        }
        if (format >= 5) {
            int revoked = count(in, "revoked tokens");
            for (int i = 0; i < revoked; i++) {
                String jti = in.readUTF();
                long until = in.readLong();
                if (jti.isEmpty() || jti.length() > RevokedTokens.MAX_ID_LENGTH || table.revokedTokens.contains(jti)) {
                    throw new SnapshotFormatException("bad or repeated revoked token id '" + jti + "'");
                }
                table.revokedTokens.restore(jti, until);
            }
        }
        if (format >= 6) {
            KeySnapshot.read(table, in);
        }
        if (format >= 7) {
            Map<String, Long> quotas = new java.util.TreeMap<>();
            for (int i = in.readUnsignedByte(); i > 0; i--) {
                if (quotas.put(in.readUTF(), in.readLong()) != null) {
                    throw new SnapshotFormatException("a quota is named twice");
                }
            }
            try {
                table.admission.restoreOpenQuotas(Quotas.of(quotas, "the snapshot's quotas: "));
            } catch (io.holdfast.InvalidArgumentException e) {
                throw new SnapshotFormatException(e.getMessage());
            }
        }
        if (format >= 8) {
            ElectionRecords.read(table, in);
        }
        table.restoreDerived();
        return read;
    }

    /** Reads a count of {@code what}: refused when negative or more than the bytes left could hold. */
    static int count(DataInputStream in, String what) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new SnapshotFormatException("bad " + what + " count " + n);
        }
        return n;
    }
}
