package io.holdfast.server.raft;

import io.holdfast.core.LockTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.CRC32;

/**
 * A table's canonical bytes and their checksum, to compare replicas: two replicas that applied the
 * same prefix of the log have the same snapshot form, byte for byte, so the same CRC-32. Call on a
 * table nobody changes meanwhile (under the apply lock). Not a guarantee of anything beyond
 * "differs": a CRC-32 of equal tables is equal; of different tables, different with high odds only.
 */
final class TableDigest {
    private TableDigest() {}

    /** The table in its snapshot form. */
    static byte[] bytes(LockTable table) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            table.writeSnapshot(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The CRC-32 of {@code bytes}, in hexadecimal. */
    static String crc(byte[] bytes) {
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return Long.toHexString(crc.getValue());
    }
}
