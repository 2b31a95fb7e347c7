package io.holdfast.protocol.frame;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The writing end of one {@link FrameChannel} connection. Frames written before the socket is up
 * are kept and go first, after the preface. Threads that write at once take turns as the writer: a
 * thread that finds another writing leaves its frame to it and returns, and the writer writes every
 * frame waiting in one write to the socket, until none waits. So 64 calls started together cost the
 * socket a few system calls, not 64 (and no thread waits for another's system call to start its
 * own). The connection's reader may take the turn without writing ({@link #hold}) while it hands
 * out the answers one read brought: the requests the woken callers send meanwhile wait, and leave
 * in one write at {@link #release}.
 *
 * <p>Guarantees: frames reach the socket in the order their {@link #write}s took this writer's
 * lock; a frame accepted by {@code write} is written unless the connection ends first; once {@link
 * #close} ran, {@code write} throws. Not guaranteed: that a frame is on the socket when {@code
 * write} returns (another thread may be writing it).
 *
 * <p>A failure story: the server resets the connection while a thread writes a batch that holds
 * four other threads' frames. The writer's {@code write} throws; the connection is told ({@code
 * onFailure}) and ends every call on it with {@code UNAVAILABLE}, the four included, though their
 * own {@code write}s had returned.
 */
final class FrameWriter {
    /** The largest buffer kept for gathering frames; a larger batch gets a buffer of its own. */
    private static final int MOST_KEPT = 256 * 1024;

    /** Told of a write that failed, on the thread that was writing; it ends the connection. */
    interface Failure {
        void writeFailed(IOException e);
    }

    private final String address;
    private final Failure onFailure;
    private final Object lock = new Object();
    // Guarded by lock.
    private final List<ByteBuffer> early = new ArrayList<>();
    private final List<ByteBuffer> waiting = new ArrayList<>();
    private Socket socket;
    private OutputStream out;
    private boolean writing;
    private boolean closed;
    private long writes;
    /** Whether the connection's reader holds the turn ({@link #holdWhile}); its thread alone. */
    private boolean readerHolds;
    // Used by the writing thread alone.
    private byte[] gathered = new byte[8 * 1024];

    FrameWriter(String address, Failure onFailure) {
        this.address = address;
        this.onFailure = onFailure;
    }

    /**
     * The socket is connected: writes the preface and the frames kept so far. Returns false, and
     * closes {@code s}, if this writer was closed meanwhile.
     */
    boolean open(Socket s) throws IOException {
        synchronized (lock) {
            if (closed) {
                s.close();
                return false;
            }
            socket = s;
            out = s.getOutputStream();
            out.write(Frames.PREFACE);
            for (ByteBuffer frame : early) {
                out.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
            }
            early.clear();
            out.flush();
            return true;
        }
    }

    /** Writes a frame, keeps it until the socket is up, or leaves it to the thread writing now. */
    void write(ByteBuffer frame) throws IOException {
        synchronized (lock) {
            if (closed) {
                throw new IOException("the connection to " + address + " is closed");
            }
            if (out == null) {
                early.add(frame);
                return;
            }
            waiting.add(frame);
            if (writing) {
                return;
            }
            writing = true;
        }
        writeWaiting();
    }

    /**
     * Takes the writer's turn without writing: frames written meanwhile wait until {@link
     * #release}, which the holder must call. Returns false, and takes nothing, when another thread
     * is writing, the socket is not up or the writer is closed.
     */
    private boolean hold() {
        synchronized (lock) {
            if (writing || out == null || closed) {
                return false;
            }
            writing = true;
            return true;
        }
    }

    /**
     * Gives up a turn {@link #hold} took: writes what waited meanwhile, as the writer would (a
     * failed write ends the connection, as any writer's does).
     */
    private void release() throws IOException {
        writeWaiting();
    }

    /**
     * For the connection's reader: holds the writer's turn while its next read takes only bytes
     * already in memory ({@code inMemory}), and gives it up, writing what waited, before a read
     * that may wait for the server.
     */
    void holdWhile(boolean inMemory) throws IOException {
        if (inMemory && !readerHolds) {
            readerHolds = hold();
        } else if (!inMemory && readerHolds) {
            readerHolds = false;
            release();
        }
    }

    /** The writer's turn: writes what waits, as one, until nothing does. */
    private void writeWaiting() throws IOException {
        while (true) {
            OutputStream to;
            byte[] bytes;
            int offset = 0;
            int length = 0;
            synchronized (lock) {
                if (waiting.isEmpty() || closed) {
                    writing = false;
                    waiting.clear();
                    return;
                }
                if (waiting.size() == 1) {
                    ByteBuffer frame = waiting.get(0);
                    bytes = frame.array();
                    offset = frame.arrayOffset() + frame.position();
                    length = frame.remaining();
                } else {
                    for (ByteBuffer frame : waiting) {
                        length += frame.remaining();
                    }
                    if (gathered.length < length && length <= MOST_KEPT) {
                        gathered = new byte[Math.min(MOST_KEPT, Math.max(length, 2 * gathered.length))];
                    }
                    bytes = gathered.length >= length ? gathered : new byte[length];
                    int at = 0;
                    for (ByteBuffer frame : waiting) {
                        System.arraycopy(
                                frame.array(), frame.arrayOffset() + frame.position(), bytes, at, frame.remaining());
                        at += frame.remaining();
                    }
                }
                waiting.clear();
                to = out;
                writes++;
            }
            try {
                to.write(bytes, offset, length);
            } catch (IOException e) {
                synchronized (lock) {
                    writing = false;
                }
                onFailure.writeFailed(e);
                throw e;
            }
        }
    }

    /** The writes to the socket so far, the preface's aside (for tests). */
    long writes() {
        synchronized (lock) {
            return writes;
        }
    }

    /** No more writes: drops what was kept or left waiting, and closes the socket if it was up. Idempotent. */
    void close() {
        synchronized (lock) {
            closed = true;
            early.clear();
            waiting.clear();
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
    }
}
