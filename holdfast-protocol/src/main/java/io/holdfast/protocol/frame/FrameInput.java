package io.holdfast.protocol.frame;

import java.io.BufferedInputStream;
import java.io.InputStream;

/**
 * A connection's buffered input that tells how many bytes it holds without asking the socket
 * ({@code available()} would be a system call): the reader knows whether its next frame is
 * already here or it must wait for the server.
 */
final class FrameInput extends BufferedInputStream {
    FrameInput(InputStream in) {
        super(in, 64 * 1024);
    }

    /** The bytes read from the socket and not yet taken. */
    int buffered() {
        return count - pos;
    }
}
