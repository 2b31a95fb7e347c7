package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import org.junit.jupiter.api.Test;

/** Tracing off costs nothing: no span builder, nothing put in the context; a trace in force is carried on. */
class SpansTest {
    private static final Tracer NOOP = OpenTelemetry.noop().getTracer("io.holdfast.client");

    @Test
    void withoutAnSdkAndOutsideATraceTracingIsOffAndTheInvalidSpanChangesNoContext() {
        assertThat(Spans.off(NOOP)).isTrue();
        Context before = Context.current();
        try (Scope scope = Spans.current(Span.getInvalid())) {
            assertThat(scope).isSameAs(Scope.noop());
            assertThat(Context.current()).isSameAs(before);
        }
    }

    @Test
    void aTraceInForceIsCarriedOnEvenWithoutAnSdk() {
        Span caller = Span.wrap(SpanContext.create(
                "4bf92f3577b34da6a3ce929d0e0e4736",
                "00f067aa0ba902b7",
                TraceFlags.getSampled(),
                TraceState.getDefault()));
        try (Scope ignored = caller.makeCurrent()) {
            assertThat(Spans.off(NOOP)).isFalse();
            try (Scope inner = Spans.current(caller)) {
                assertThat(Span.current().getSpanContext()).isEqualTo(caller.getSpanContext());
            }
        }
    }
}
