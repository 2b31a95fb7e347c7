package io.holdfast.core;

import io.holdfast.model.Reply;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The part of snapshot format 6 ({@link SnapshotCodec}) that keys added: how long each key lives.
 * After the revoked tokens, the keys that are attached to a session or have a time to live (int
 * count, sorted by key as the registers are): key, owner (bool present, session id), deadline
 * (long, the table time its time to live passes at; 0 for none). Every other key lives until it is
 * deleted, as in every older format.
 *
 * <p>A table is written in format 6 only while it holds such a key, or remembers the answer of a
 * counter add or a transaction (reply types 7 and 8): things only a cluster of protocol version 6
 * makes, so a build of an older version still reads the snapshots of a cluster that has not used
 * them.
 */
final class KeySnapshot {
    private KeySnapshot() {}

    /** Whether the table holds something only format 6 can write. */
    static boolean needed(TableParts table) {
        for (Register r : table.registers.map().values()) {
            if (r.leased()) {
                return true;
            }
        }
        return SnapshotCodec.remembers(table, r -> r instanceof Reply.Counted || r instanceof Reply.Transacted);
    }

    static void write(TableParts table, DataOutputStream out) throws IOException {
        List<String> keys = new ArrayList<>();
        for (Map.Entry<String, Register> e : table.registers.map().entrySet()) {
            if (e.getValue().leased()) {
                keys.add(e.getKey());
            }
        }
        keys.sort(java.util.Comparator.naturalOrder());
        out.writeInt(keys.size());
        for (String key : keys) {
            Register r = table.registers.map().get(key);
            out.writeUTF(key);
            out.writeBoolean(r.owner != null);
            if (r.owner != null) {
                out.writeUTF(r.owner);
            }
            out.writeLong(r.deadline);
        }
    }

    /** Reads the keys' lifetimes onto the registers read already; every reference is checked. */
    static void read(TableParts table, DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > table.registers.map().size()) {
            throw new SnapshotFormatException("bad key lifetimes count " + n);
        }
        for (int i = 0; i < n; i++) {
            String key = in.readUTF();
            String owner = in.readBoolean() ? in.readUTF() : null;
            long deadline = in.readLong();
            Register r = table.registers.map().get(key);
            if (r == null || r.leased() || deadline < 0 || (owner == null && deadline == 0)) {
                throw new SnapshotFormatException("bad or repeated lifetime of key " + key);
            }
            if (owner != null && !table.sessions.contains(owner)) {
                throw new SnapshotFormatException("key " + key + " is attached to unknown session " + owner);
            }
            table.registers.map().put(key, new Register(r.version, r.value, owner, deadline));
        }
    }
}
