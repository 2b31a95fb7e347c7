package io.holdfast.protocol;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.holdfast.ErrorCode;
import io.holdfast.HasErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.UnavailableException;
import io.holdfast.model.NotLeaderException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * How failures cross the wire: the server turns an exception into a gRPC status with trailing
 * metadata, the client turns the status back into the Holdfast exception it stands for.
 *
 * <ul>
 *   <li>{@link NotLeaderException}: {@code UNAVAILABLE}, "not the leader", with the leader's
 *       address in {@link #LEADER} when known.
 *   <li>any other {@link UnavailableException}, a timeout, a cancellation, or a call one of the
 *       server's pools refused as it shuts down ({@link RejectedExecutionException}, the call
 *       did not run): {@code UNAVAILABLE}.
 *   <li>{@link InvalidArgumentException}: {@code INVALID_ARGUMENT} with its message.
 *   <li>{@link io.holdfast.PermissionDeniedException}: {@code PERMISSION_DENIED}; {@link
 *       io.holdfast.QuotaExceededException}: {@code RESOURCE_EXHAUSTED}.
 *   <li>any other Holdfast exception: {@code FAILED_PRECONDITION} with its message.
 *   <li>anything else: {@code INTERNAL}, naming the exception (a bug on the server).
 * </ul>
 *
 * Every status that stands for a Holdfast exception carries its {@link ErrorCode} in {@link
 * #ERROR_CODE}.
 */
public final class GrpcErrors {
    /** The leader's client address ({@code host:port}) on an {@code UNAVAILABLE} from a follower. */
    public static final Metadata.Key<String> LEADER =
            Metadata.Key.of("holdfast-leader", Metadata.ASCII_STRING_MARSHALLER);

    /** The {@link ErrorCode} name of the Holdfast exception a status stands for. */
    public static final Metadata.Key<String> ERROR_CODE =
            Metadata.Key.of("holdfast-error-code", Metadata.ASCII_STRING_MARSHALLER);

    /**
     * The description of the status a refused submission to one of the server's pools becomes
     * ({@link RejectedExecutionException}): the call did not run.
     */
    public static final String SHUTTING_DOWN = "the server cannot take the call now: it is shutting down";

    /** The description of the status a {@link NotLeaderException} becomes. */
    private static final String NOT_LEADER = "not the leader";

    private GrpcErrors() {}

    /** The status (with trailers) to close a call with for this failure. */
    public static StatusRuntimeException toStatus(Throwable failure) {
        Throwable t = unwrap(failure);
        Metadata trailers = new Metadata();
        if (t instanceof StatusRuntimeException sre) {
            return sre;
        }
        if (t instanceof StatusException se) {
            return new StatusRuntimeException(se.getStatus(), se.getTrailers());
        }
        if (t instanceof NotLeaderException nl) {
            trailers.put(ERROR_CODE, ErrorCode.UNAVAILABLE.name());
            String leader = nl.leaderAddress();
            if (leader != null && !leader.isBlank()) {
                trailers.put(LEADER, leader.strip());
            }
            return Status.UNAVAILABLE.withDescription(NOT_LEADER).asRuntimeException(trailers);
        }
        if (t instanceof HasErrorCode hf && hf.code() != null) {
            trailers.put(ERROR_CODE, hf.code().name());
            Status status = switch (hf.code()) {
                case UNAVAILABLE -> Status.UNAVAILABLE;
                case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
                case PERMISSION_DENIED -> Status.PERMISSION_DENIED;
                case QUOTA_EXCEEDED -> Status.RESOURCE_EXHAUSTED;
                default -> Status.FAILED_PRECONDITION;
            };
            return status.withDescription(t.getMessage()).withCause(t).asRuntimeException(trailers);
        }
        if (t instanceof RejectedExecutionException) {
            // A pool of this server's that no longer takes work: it is shutting down (or full). The
            // call never ran, so the client may try it on another member: not a bug to report.
            trailers.put(ERROR_CODE, ErrorCode.UNAVAILABLE.name());
            return Status.UNAVAILABLE
                    .withDescription(SHUTTING_DOWN)
                    .withCause(t)
                    .asRuntimeException(trailers);
        }
        if (t instanceof TimeoutException || t instanceof CancellationException) {
            trailers.put(ERROR_CODE, ErrorCode.UNAVAILABLE.name());
            return Status.UNAVAILABLE
                    .withDescription("the lock service did not answer: " + t)
                    .withCause(t)
                    .asRuntimeException(trailers);
        }
        return Status.INTERNAL
                .withDescription("internal error: " + t)
                .withCause(t)
                .asRuntimeException();
    }

    /**
     * Whether a failed call is a member's answer that it does not lead ({@link NotLeaderException}
     * crossed the wire), as opposed to a member that could not be reached or did not answer.
     */
    public static boolean isNotLeader(Throwable failure) {
        Status status = Status.fromThrowable(failure);
        Metadata trailers = Status.trailersFromThrowable(failure);
        return status.getCode() == Status.Code.UNAVAILABLE
                && NOT_LEADER.equals(status.getDescription())
                && trailers != null
                && trailers.containsKey(ERROR_CODE);
    }

    /**
     * The Holdfast exception a failed call stands for: the type named by {@link #ERROR_CODE} if
     * present, {@link InvalidArgumentException} for {@code INVALID_ARGUMENT}, {@link
     * io.holdfast.QuotaExceededException} for {@code RESOURCE_EXHAUSTED} (gRPC's own message size
     * limit, whose description names it), else {@link
     * UnavailableException} (the outcome of the call is unknown, and retrying it is safe).
     *
     * @param where names the member that failed, for the message
     */
    public static RuntimeException toException(Throwable failure, String where) {
        Status status = Status.fromThrowable(failure);
        Metadata trailers = Status.trailersFromThrowable(failure);
        String description = status.getDescription() == null ? status.getCode().name() : status.getDescription();
        ErrorCode code = trailers == null ? null : errorCode(trailers.get(ERROR_CODE));
        if (code == null && status.getCode() == Status.Code.INVALID_ARGUMENT) {
            code = ErrorCode.INVALID_ARGUMENT;
        }
        if (code == null && status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            // gRPC's own size limits (an answer over the channel's maxInboundMessageSize): no outage
            return new io.holdfast.QuotaExceededException(where + ": " + description);
        }
        if (code == null || code == ErrorCode.UNAVAILABLE) {
            return new UnavailableException(where + ": " + status.getCode() + ": " + description, failure);
        }
        if (code == ErrorCode.INVALID_ARGUMENT) {
            return new InvalidArgumentException(description, failure);
        }
        return code.toException(description);
    }

    private static ErrorCode errorCode(String name) {
        if (name == null) {
            return null;
        }
        try {
            return ErrorCode.valueOf(name);
        } catch (IllegalArgumentException unknown) {
            return null; // a newer server's code: the status alone decides
        }
    }

    /** Removes the wrappers that futures add around a failure. */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
