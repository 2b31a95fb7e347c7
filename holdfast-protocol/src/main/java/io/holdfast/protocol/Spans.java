package io.holdfast.protocol;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.util.concurrent.CompletableFuture;

/**
 * How the client and the server end their OpenTelemetry spans: once, when the operation's outcome
 * is known, with status {@code ERROR} and the cause's message if it failed. A span that records
 * nothing (the API's no-op, when the application has no SDK) is ended without a callback or an
 * allocation.
 */
public final class Spans {
    private Spans() {}

    /** Ends the span, as failed if {@code error} is not null. */
    public static void end(Span span, Throwable error) {
        if (error != null && span.isRecording()) {
            Throwable cause = GrpcErrors.unwrap(error);
            span.setStatus(
                    StatusCode.ERROR,
                    cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage());
        }
        span.end();
    }

    /** Ends the span when the future completes; returns the same future (nothing added if the span records nothing). */
    public static <T> CompletableFuture<T> endWhenDone(Span span, CompletableFuture<T> future) {
        if (span.isRecording()) {
            future.whenComplete((value, error) -> end(span, error));
        }
        return future;
    }
}
