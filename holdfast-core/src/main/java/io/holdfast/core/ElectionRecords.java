package io.holdfast.core;

import io.holdfast.WatchEvent;
import io.holdfast.model.RegisterSet;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Election records apart from the keyspace (issue 70, item 7). An election's record is the register
 * of its name holding {@code "<epoch>:<value>"}, written fenced by the leadership's grant of the lock
 * of the same name, the epoch that grant's token (what every client's {@code campaign} writes).
 * The table marks such a write with its token ({@link Register#record}) when it keeps the
 * key's lifetime (log type 23, protocol version 8: so no member of an older build ever applies a
 * mark). A marked key is left out of key listings (through which the keys API reads one key too)
 * and of the changes a watch of keys is told (its changes carry the token, {@link #concernsKeys});
 * the register API reads and watches it by its name as before. It is deleted in the same step as
 * its lock has neither holder, waiter nor lock-delay left: the election has nobody. Any other write
 * of the key makes it a plain key again.
 *
 * <p>Snapshot format 8 ({@link SnapshotCodec}) adds, after the quotas, the marked keys (int count,
 * sorted by key): key, token (long); a table is written in format 8 only while it holds one.
 */
final class ElectionRecords {
    private ElectionRecords() {}

    /** The token {@code c} marks its key with as an election's record; 0 when it is no record. */
    static long token(String key, RegisterSet c) {
        if (!c.keeps() || !key.equals(c.fenceName()) || c.fenceToken() <= 0) {
            return 0;
        }
        byte[] prefix = (c.fenceToken() + ":").getBytes(StandardCharsets.US_ASCII);
        byte[] value = c.value();
        if (value.length < prefix.length) {
            return 0;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (value[i] != prefix[i]) {
                return 0;
            }
        }
        return c.fenceToken();
    }

    /** A write of a record: a key write that carries the record's token. */
    static WatchEvent written(String key, String writer, long version, byte[] value, long token) {
        return new WatchEvent(
                WatchEvent.Type.REGISTER_SET, key, writer, token, null, null, version, value, null, null, null);
    }

    /** The deletion of a record whose election has nobody. */
    static WatchEvent ended(String key, long version, long token) {
        return new WatchEvent(
                WatchEvent.Type.REGISTER_DELETED,
                key,
                null,
                token,
                null,
                WatchEvent.Cause.RELEASED,
                version,
                null,
                null,
                null,
                null);
    }

    /** Whether a watch of keys is told this key change: not when it is an election record's. */
    static boolean concernsKeys(WatchEvent e) {
        return e.fencingToken() == 0;
    }

    /** Whether the table holds a record, which only snapshot format 8 keeps. */
    static boolean needed(TableParts table) {
        return table.registers.map().values().stream().anyMatch(r -> r.record != 0);
    }

    static void write(TableParts table, DataOutputStream out) throws IOException {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, Register> e : table.registers.map().entrySet()) {
            if (e.getValue().record != 0) {
                keys.add(e.getKey());
            }
        }
        keys.sort(java.util.Comparator.naturalOrder());
        out.writeInt(keys.size());
        for (String key : keys) {
            out.writeUTF(key);
            out.writeLong(table.registers.map().get(key).record);
        }
    }

    /** Marks the registers read already; every reference is checked. */
    static void read(TableParts table, DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > table.registers.map().size()) {
            throw new SnapshotFormatException("bad election records count " + n);
        }
        for (int i = 0; i < n; i++) {
            String key = in.readUTF();
            long token = in.readLong();
            Register r = table.registers.map().get(key);
            if (r == null || r.record != 0 || token <= 0) {
                throw new SnapshotFormatException("bad or repeated election record " + key);
            }
            table.registers.map().put(key, new Register(r.version, r.value, r.owner, r.deadline, token));
        }
    }
}
