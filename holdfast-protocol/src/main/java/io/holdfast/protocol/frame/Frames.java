package io.holdfast.protocol.frame;

import com.google.protobuf.MessageLite;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The wire format of Holdfast's framed transport: the calls of the gRPC service {@code
 * holdfast.v1.Holdfast}, with the same protobuf messages, statuses and trailers, carried in plain
 * length-prefixed frames over TCP instead of HTTP/2.
 *
 * <p>A connection starts with the client's {@link #PREFACE} (8 bytes); a server closes a connection
 * whose first bytes are anything else. Then both sides send frames, each
 *
 * <pre>
 *   int32  length   bytes that follow this field: 9 + the body
 *   int8   type     CALL, CALL_WITH_HEADERS, CANCEL (client to server); MESSAGE, CLOSE (server to client)
 *   int64  call     the client's number for the call, unique on the connection while it is open
 *   body
 * </pre>
 *
 * <ul>
 *   <li>{@code CALL}: int16 length + UTF-8 full method name ({@code holdfast.v1.Holdfast/Submit}),
 *       then the request message. Unary and server-streaming methods only.
 *   <li>{@code CALL_WITH_HEADERS}: the call's headers as a {@code CLOSE} frame's trailers (int16
 *       count, then the pairs), then the body of a {@code CALL}. Sent instead of {@code CALL} only
 *       when the call has headers (a W3C {@code traceparent}, when the caller's code runs in a
 *       trace), so a server that predates it is sent nothing new unless a trace is carried.
 *   <li>{@code CANCEL}: empty. The client gives up on the call; the server answers nothing more.
 *   <li>{@code MESSAGE}: one response message (one for a unary call, any number for a stream).
 *   <li>{@code CLOSE}: the call's end: int32 status code, int32 length + UTF-8 description, int16
 *       count, then that many pairs of (int16 length + ASCII key, int32 length + ASCII value): the
 *       trailers. Binary ({@code -bin}) trailers are not carried.
 * </ul>
 *
 * Integers are big-endian. There is no flow control: a server writes what it has, and a client
 * reads continuously. The transport carries no credentials and no TLS, and of the headers only
 * ASCII ones; nodes with TLS or authentication serve clients over gRPC.
 */
public final class Frames {
    /** What a client sends first: {@code HFRAMES1}. */
    public static final byte[] PREFACE = "HFRAMES1".getBytes(StandardCharsets.US_ASCII);

    /** The bytes before a frame's body: length, type, call. */
    public static final int HEADER = 4 + 1 + 8;

    public static final byte CALL = 1;
    public static final byte CANCEL = 2;
    public static final byte MESSAGE = 3;
    public static final byte CLOSE = 4;
    public static final byte CALL_WITH_HEADERS = 5;

    private static final int MAX_TRAILERS = 64;

    private Frames() {}

    /** A {@code CALL} frame, ready to write. */
    public static <Q> ByteBuffer call(long call, MethodDescriptor<Q, ?> method, Q request) {
        return call(call, method, request, null);
    }

    /**
     * A {@code CALL} frame, ready to write; a {@code CALL_WITH_HEADERS} frame if {@code headers}
     * holds an ASCII header (binary ones are not carried).
     */
    public static <Q> ByteBuffer call(long call, MethodDescriptor<Q, ?> method, Q request, Metadata headers) {
        byte[] name = method.getFullMethodName().getBytes(StandardCharsets.UTF_8);
        byte[] message = bytes(request, method.getRequestMarshaller());
        Pairs pairs = Pairs.of(headers);
        int size = 2 + name.length + message.length;
        ByteBuffer b = pairs.isEmpty()
                ? frame(CALL, call, size)
                : pairs.putInto(frame(CALL_WITH_HEADERS, call, pairs.size() + size));
        b.putShort((short) name.length).put(name).put(message);
        return b.flip();
    }

    /** A {@code CANCEL} frame, ready to write. */
    public static ByteBuffer cancel(long call) {
        return frame(CANCEL, call, 0).flip();
    }

    /** A {@code MESSAGE} frame, ready to write. */
    public static <A> ByteBuffer message(long call, MethodDescriptor<?, A> method, A response) {
        byte[] message = bytes(response, method.getResponseMarshaller());
        return frame(MESSAGE, call, message.length).put(message).flip();
    }

    /** A {@code CLOSE} frame, ready to write. */
    public static ByteBuffer close(long call, Status status, Metadata trailers) {
        byte[] description = status.getDescription() == null
                ? new byte[0]
                : status.getDescription().getBytes(StandardCharsets.UTF_8);
        Pairs pairs = Pairs.of(trailers);
        ByteBuffer b = frame(CLOSE, call, 4 + 4 + description.length + pairs.size());
        b.putInt(status.getCode().value()).putInt(description.length).put(description);
        return pairs.putInto(b).flip();
    }

    /**
     * The ASCII entries of headers or trailers as a frame carries them: int16 count, then each
     * (int16 length + key, int32 length + value); at most {@value #MAX_TRAILERS} entries.
     */
    private record Pairs(java.util.List<byte[]> keysAndValues, int size) {
        private static final Pairs NONE = new Pairs(java.util.List.of(), 2);

        static Pairs of(Metadata metadata) {
            if (metadata == null || metadata.keys().isEmpty()) {
                return NONE;
            }
            java.util.List<byte[]> pairs = new java.util.ArrayList<>();
            int size = 2;
            for (String key : metadata.keys()) {
                if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX) || pairs.size() >= 2 * MAX_TRAILERS) {
                    continue;
                }
                Iterable<String> values = metadata.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
                for (String value : values == null ? java.util.List.<String>of() : values) {
                    pairs.add(key.getBytes(StandardCharsets.US_ASCII));
                    pairs.add(value.getBytes(StandardCharsets.US_ASCII));
                    size += 2 + 4 + pairs.get(pairs.size() - 2).length + pairs.get(pairs.size() - 1).length;
                }
            }
            return new Pairs(pairs, size);
        }

        boolean isEmpty() {
            return keysAndValues.isEmpty();
        }

        ByteBuffer putInto(ByteBuffer b) {
            b.putShort((short) (keysAndValues.size() / 2));
            for (int i = 0; i < keysAndValues.size(); i += 2) {
                b.putShort((short) keysAndValues.get(i).length).put(keysAndValues.get(i));
                b.putInt(keysAndValues.get(i + 1).length).put(keysAndValues.get(i + 1));
            }
            return b;
        }
    }

    /** The method name at the start of a {@code CALL} body; the body is left at the message. */
    public static String methodName(ByteBuffer body) throws FrameException {
        int length = body.remaining() >= 2 ? Short.toUnsignedInt(body.getShort()) : -1;
        if (length < 0 || length > body.remaining()) {
            throw new FrameException("a call frame without a method name");
        }
        byte[] name = new byte[length];
        body.get(name);
        return new String(name, StandardCharsets.UTF_8);
    }

    /** A message parsed with {@code marshaller} from the rest of {@code body}. */
    public static <T> T parse(ByteBuffer body, MethodDescriptor.Marshaller<T> marshaller) {
        return marshaller.parse(
                new ByteArrayInputStream(body.array(), body.arrayOffset() + body.position(), body.remaining()));
    }

    /** The status of a {@code CLOSE} body. */
    public static Status status(ByteBuffer body) throws FrameException {
        try {
            int code = body.getInt();
            String description = string(body, body.getInt());
            Status status = Status.fromCodeValue(code);
            return description.isEmpty() ? status : status.withDescription(description);
        } catch (java.nio.BufferUnderflowException e) {
            throw new FrameException("a close frame cut short");
        }
    }

    /** The trailers of a {@code CLOSE} body, read after {@link #status(ByteBuffer)}. */
    public static Metadata trailers(ByteBuffer body) throws FrameException {
        return pairs(body, "a close frame with bad trailers: ");
    }

    /** The headers at the start of a {@code CALL_WITH_HEADERS} body; the body is left at the method name. */
    public static Metadata headers(ByteBuffer body) throws FrameException {
        return pairs(body, "a call frame with bad headers: ");
    }

    private static Metadata pairs(ByteBuffer body, String problem) throws FrameException {
        Metadata metadata = new Metadata();
        try {
            int count = Short.toUnsignedInt(body.getShort());
            for (int i = 0; i < count; i++) {
                String key = string(body, Short.toUnsignedInt(body.getShort()));
                String value = string(body, body.getInt());
                metadata.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
            }
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new FrameException(problem + e.getMessage());
        }
        return metadata;
    }

    private static String string(ByteBuffer body, int length) throws FrameException {
        if (length < 0 || length > body.remaining()) {
            throw new FrameException("a string of " + length + " bytes where " + body.remaining() + " are left");
        }
        byte[] b = new byte[length];
        body.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static ByteBuffer frame(byte type, long call, int body) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + body);
        return b.putInt(9 + body).put(type).putLong(call);
    }

    private static <T> byte[] bytes(T value, MethodDescriptor.Marshaller<T> marshaller) {
        if (value instanceof MessageLite m) {
            return m.toByteArray();
        }
        try (InputStream in = marshaller.stream(value)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot serialise " + value.getClass().getName(), e);
        }
    }

    /** A frame that breaks this format: the connection that sent it is closed. */
    public static final class FrameException extends Exception {
        private static final long serialVersionUID = 1L;

        public FrameException(String message) {
            super(message);
        }
    }
}
