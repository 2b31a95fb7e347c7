package io.holdfast.endpoint;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a gRPC request whose body is not the method's message with {@code INVALID_ARGUMENT},
 * counts it, and logs at most one line per interval about such requests.
 *
 * <p>Why: gRPC-java parses a request outside the service, and a body that is not protobuf makes
 * its parser throw on the call's thread; gRPC then answers {@code UNKNOWN} and logs the exception
 * at {@code SEVERE} with its stack trace, once per request. One client sending garbage in a loop
 * could fill a node's log. Here the parse failure becomes a placeholder message that the call's
 * listener recognises (by identity) and answers with {@code INVALID_ARGUMENT} before the
 * service, or any interceptor, sees it.
 *
 * <p>Guarantees: the service never receives an unparsable request; every one is counted; the log
 * gets one WARNING line for the first in each interval, naming how many there were since the last
 * line and the parser's message for the latest. Not covered: a body that parses but is
 * meaningless (the service validates those), and the frames protocol, which answers its own parse
 * failures ({@code FrameServer}) and counts them there.
 */
final class UnparsableRequests {
    private static final Logger LOG = LoggerFactory.getLogger(UnparsableRequests.class);

    private final LongAdder count = new LongAdder();
    private final LongSupplier nanoTime;
    private final long intervalNanos;
    private final AtomicLong nextLogNanos;
    private final AtomicLong unlogged = new AtomicLong();

    UnparsableRequests(LongSupplier nanoTime, long interval, TimeUnit unit) {
        this.nanoTime = nanoTime;
        this.intervalNanos = unit.toNanos(interval);
        this.nextLogNanos = new AtomicLong(nanoTime.getAsLong());
    }

    /** Requests refused so far. */
    long count() {
        return count.sum();
    }

    /** {@code definition} with every method's requests parsed as described above. */
    ServerServiceDefinition guard(ServerServiceDefinition definition) {
        List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> method : definition.getMethods()) {
            methods.add(guard(method));
        }
        ServiceDescriptor original = definition.getServiceDescriptor();
        ServiceDescriptor.Builder service =
                ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
        methods.forEach(m -> service.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(service.build());
        methods.forEach(b::addMethod);
        return b.build();
    }

    private <Q, A> ServerMethodDefinition<Q, A> guard(ServerMethodDefinition<Q, A> method) {
        MethodDescriptor<Q, A> descriptor = method.getMethodDescriptor();
        MethodDescriptor.Marshaller<Q> parser = descriptor.getRequestMarshaller();
        if (!(parser instanceof MethodDescriptor.PrototypeMarshaller<Q> prototyped)
                || !(prototyped.getMessagePrototype() instanceof MessageLite prototype)) {
            return method; // not protobuf: nothing to stand in for a failed parse
        }
        @SuppressWarnings("unchecked") // a builder of the prototype builds the same type
        Q placeholder = (Q) prototype.toBuilder().build(); // a new object: no parse returns it
        MethodDescriptor.Marshaller<Q> lenient = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(Q value) {
                return parser.stream(value);
            }

            @Override
            public Q parse(InputStream stream) {
                try {
                    return parser.parse(stream);
                } catch (RuntimeException e) {
                    refused(descriptor.getFullMethodName(), e);
                    return placeholder;
                }
            }
        };
        ServerCallHandler<Q, A> handler = method.getServerCallHandler();
        String refusal = "the request is not a " + descriptor.getFullMethodName() + " message";
        ServerCallHandler<Q, A> guarded = (call, headers) ->
                new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                        handler.startCall(call, headers)) {
                    private boolean refusedCall;

                    @Override
                    public void onMessage(Q message) {
                        if (message == placeholder) {
                            refusedCall = true;
                            call.close(Status.INVALID_ARGUMENT.withDescription(refusal), new Metadata());
                        } else if (!refusedCall) {
                            super.onMessage(message);
                        }
                    }

                    @Override
                    public void onHalfClose() {
                        if (!refusedCall) {
                            super.onHalfClose();
                        }
                    }

                    @Override
                    public void onReady() {
                        if (!refusedCall) {
                            super.onReady();
                        }
                    }
                };
        return ServerMethodDefinition.create(
                descriptor.toBuilder(lenient, descriptor.getResponseMarshaller())
                        .build(),
                guarded);
    }

    private void refused(String method, RuntimeException e) {
        count.increment();
        unlogged.incrementAndGet();
        long now = nanoTime.getAsLong();
        long next = nextLogNanos.get();
        if (now - next >= 0 && nextLogNanos.compareAndSet(next, now + intervalNanos)) {
            long n = unlogged.getAndSet(0);
            LOG.warn(n + " gRPC request(s) refused since the last such line: the body was not the method's"
                    + " message (latest: " + method + ", " + e.getMessage() + ")");
        }
    }
}
