package io.holdfast.core;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where a table's snapshot form is streamed by {@link LockTable#writeSnapshot(SnapshotOutput)}: its bytes in
 * order, then one 4-byte field written back in place (the body's length, which the format puts before the body
 * and which is known only once the body is written). A file is such an output; the table stays free of files.
 *
 * <p><b>What the writer does.</b> It writes every byte of the snapshot through {@link #stream()} in order, the first
 * at offset 0, flushes it and does not close it; then it calls {@link #patchInt} once, for an offset of bytes
 * already written. <b>Not guaranteed:</b> anything about the output after a failure: a snapshot whose write threw
 * is incomplete, and the caller discards it (the node writes a temporary file and moves it into place only whole).
 */
public interface SnapshotOutput {
    /** The bytes in order; offset 0 is the snapshot's first byte. */
    OutputStream stream();

    /** Writes {@code value} big-endian over the 4 bytes at {@code offset}, already written through the stream. */
    void patchInt(long offset, int value) throws IOException;
}
