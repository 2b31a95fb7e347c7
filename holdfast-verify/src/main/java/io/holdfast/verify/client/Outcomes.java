package io.holdfast.verify.client;

import io.holdfast.ConflictException;
import io.holdfast.HasErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.verify.history.Result;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * How a failed call becomes the {@link Result} of its operation: the modelling rules of the harness
 * (verify-spec.md), in one place so that the workload, the probes and the checkers agree.
 *
 * <ul>
 *   <li>Acquire: {@link LockTimeoutException} (and a busy try) is {@code Refused(TIMEOUT)}:
 *       certainly not granted. {@link InvalidArgumentException} and {@link
 *       UnsupportedFeatureException} are {@code Refused(INVALID_ARGUMENT)} / {@code
 *       Refused(UNSUPPORTED)}: refused before anything happened. Anything else (unavailable,
 *       session expired, deadlock, lost right after the grant, no answer in time, a bug) is {@code
 *       Unknown}: it may have been granted.
 *   <li>Release: {@link LockLostException} is {@code Refused(LOST)}; any other {@link
 *       NotOwnerException} is {@code Refused(NOT_OWNER)}; anything else is {@code Unknown}.
 *   <li>Register compare-and-set: {@link ConflictException} is {@code Refused(CONFLICT)}; invalid
 *       arguments as for acquires; anything else {@code Unknown} (the write may have landed).
 *   <li>Register read: any failure is {@code Unknown} (a read changes nothing either way).
 * </ul>
 *
 * <p>Why an outcome is {@code Unknown} is the {@link io.holdfast.ErrorCode} name when the exception
 * carries one, {@code NO_ANSWER} when the harness gave up waiting, {@code INTERRUPTED}, or the
 * exception's class name.
 */
public final class Outcomes {
    /** The error of a wait the harness itself gave up on (the call did not return in time). */
    public static final String NO_ANSWER = "NO_ANSWER";

    private Outcomes() {}

    /** The result of an acquire that threw {@code t}. */
    public static Result ofAcquire(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof LockTimeoutException) {
            return new Result.Refused(Result.Refused.TIMEOUT);
        }
        if (e instanceof InvalidArgumentException || e instanceof UnsupportedFeatureException) {
            return new Result.Refused(errorName(e));
        }
        return new Result.Unknown(errorName(e));
    }

    /** The result of a release that threw {@code t}. */
    public static Result ofRelease(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof LockLostException) {
            return new Result.Refused(Result.Refused.LOST);
        }
        if (e instanceof NotOwnerException) {
            return new Result.Refused("NOT_OWNER");
        }
        return new Result.Unknown(errorName(e));
    }

    /** The result of a compare-and-set that threw {@code t}. */
    public static Result ofCas(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof ConflictException) {
            return new Result.Refused(Result.Refused.CONFLICT);
        }
        if (e instanceof InvalidArgumentException || e instanceof UnsupportedFeatureException) {
            return new Result.Refused(errorName(e));
        }
        return new Result.Unknown(errorName(e));
    }

    /** The result of a register read that threw {@code t}. */
    public static Result ofRead(Throwable t) {
        return new Result.Unknown(errorName(unwrap(t)));
    }

    /** The name a failure is recorded under (see the class comment). */
    public static String errorName(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof HasErrorCode f) {
            return f.code().name();
        }
        if (e instanceof TimeoutException) {
            return NO_ANSWER;
        }
        if (e instanceof InterruptedException) {
            return "INTERRUPTED";
        }
        if (e instanceof CancellationException) {
            return "CANCELLED";
        }
        return e.getClass().getSimpleName();
    }

    /** The cause inside the wrappers of futures. */
    public static Throwable unwrap(Throwable t) {
        Throwable e = t;
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
