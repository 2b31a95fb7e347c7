package io.holdfast.endpoint.frame;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.holdfast.protocol.GrpcErrors;
import io.holdfast.protocol.frame.Frames;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call on a {@link FrameConnection}, as its handler sees it: messages and the close go out as
 * frames on the connection, the client's cancel (or the connection's end) reaches the handler's
 * listener once, and a failed call's {@code holdfast-leader} trailer is rewritten by the server's
 * hint (null: dropped). A call ends once: closed by its handler or cancelled, whichever comes first.
 * Logged under {@link FrameServer}'s name, as the port's own.
 */
final class FrameCall<Q, A> extends ServerCall<Q, A> {
    private static final Logger LOG = LoggerFactory.getLogger(FrameServer.class);

    private final FrameConnection connection;
    private final long id;
    private final MethodDescriptor<Q, A> method;
    private final UnaryOperator<String> leaderHint;
    /** Set by the connection once the handler has started the call. */
    volatile ServerCall.Listener<Q> listener;

    private volatile boolean cancelled;
    private volatile boolean closed;

    FrameCall(FrameConnection connection, long id, MethodDescriptor<Q, A> method, UnaryOperator<String> leaderHint) {
        this.connection = connection;
        this.id = id;
        this.method = method;
        this.leaderHint = leaderHint;
    }

    @Override
    public void request(int numMessages) {
        // Requests are delivered as they come: one per call.
    }

    @Override
    public void sendHeaders(Metadata headers) {
        // Frames carry no headers.
    }

    @Override
    public void sendMessage(A message) {
        if (closed || cancelled) {
            throw Status.CANCELLED.withDescription("the call has ended").asRuntimeException();
        }
        connection.send(Frames.message(id, method, message));
    }

    @Override
    public void close(Status status, Metadata trailers) {
        if (closed) {
            return;
        }
        closed = true;
        if (connection.calls.remove(id, this)) {
            connection.send(Frames.close(id, status, hinted(trailers)));
        }
        ServerCall.Listener<Q> l = listener;
        if (l != null && !cancelled) {
            try {
                l.onComplete();
            } catch (RuntimeException e) {
                LOG.debug("a call's completion failed", e);
            }
        }
    }

    /** The client cancelled, or its connection ended. */
    void cancelled() {
        if (closed || cancelled) {
            return;
        }
        cancelled = true;
        ServerCall.Listener<Q> l = listener;
        if (l != null) {
            try {
                l.onCancel();
            } catch (RuntimeException e) {
                LOG.warn("a call's cancellation failed", e);
            }
        }
    }

    private Metadata hinted(Metadata trailers) {
        if (trailers == null) {
            return null;
        }
        String leader = trailers.get(GrpcErrors.LEADER);
        if (leader != null) {
            trailers.removeAll(GrpcErrors.LEADER);
            String rewritten = leaderHint == null ? null : leaderHint.apply(leader);
            if (rewritten != null) {
                trailers.put(GrpcErrors.LEADER, rewritten);
            }
        }
        return trailers;
    }

    @Override
    public boolean isReady() {
        return !closed && !cancelled;
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public Attributes getAttributes() {
        return connection.attributes;
    }

    @Override
    public String getAuthority() {
        return null;
    }

    @Override
    public MethodDescriptor<Q, A> getMethodDescriptor() {
        return method;
    }
}
