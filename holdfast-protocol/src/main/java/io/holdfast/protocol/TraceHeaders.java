package io.holdfast.protocol;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * A trace carried in a call's gRPC metadata as W3C Trace Context ({@code traceparent}, {@code
 * tracestate}): put there by the client ({@link #carry}), read by the server ({@link #extract}).
 * Over frames the same headers travel in a {@code CALL_WITH_HEADERS} frame ({@link
 * io.holdfast.protocol.frame.Frames}).
 *
 * <p><b>Guarantees.</b> Only a valid span context is carried: code that runs in no trace sends no
 * header, and {@link #current()} is then null, so a call pays no allocation for tracing. The W3C
 * format is used whatever propagators the application configured, since it is what the server
 * reads.
 */
public final class TraceHeaders {
    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

    private static final TextMapSetter<Metadata> SETTER =
            (headers, key, value) -> headers.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

    private static final TextMapGetter<Metadata> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Metadata headers) {
            return headers.keys();
        }

        @Override
        public String get(Metadata headers, String key) {
            return headers == null ? null : headers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
    };

    private static final Metadata.Key<String> TRACEPARENT =
            Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);

    private TraceHeaders() {}

    /** The current context if a valid span is current in it (a trace to carry), else null. */
    public static Context current() {
        Context context = Context.current();
        return Span.fromContext(context).getSpanContext().isValid() ? context : null;
    }

    /** The channel as is when {@code trace} is null, else one whose calls carry its trace. */
    public static Channel carry(Channel channel, Context trace) {
        if (trace == null) {
            return channel;
        }
        return ClientInterceptors.intercept(channel, new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(
                    MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<A> listener, Metadata headers) {
                        W3C.inject(trace, headers, SETTER);
                        super.start(listener, headers);
                    }
                };
            }
        });
    }

    /**
     * The context of the trace a call's headers carry, under {@code base}; null if they carry
     * none (no {@code traceparent}, or one that does not parse).
     */
    public static Context extract(Context base, Metadata headers) {
        if (headers == null || !headers.containsKey(TRACEPARENT)) {
            return null;
        }
        Context context = W3C.extract(base, headers, GETTER);
        return Span.fromContext(context).getSpanContext().isValid() ? context : null;
    }
}
