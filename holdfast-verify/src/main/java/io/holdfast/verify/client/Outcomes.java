package io.holdfast.verify.client;

import io.holdfast.ConflictException;
import io.holdfast.HasErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockLostException;
import io.holdfast.LockTimeoutException;
import io.holdfast.NotOwnerException;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.verify.history.Op;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * How a failed call becomes the completion of its operation: the modelling rules of the harness
 * (verify-spec.md), in one place so that the workload, the probes and the checkers agree.
 *
 * <ul>
 *   <li>Acquire: {@link LockTimeoutException} (and a busy try) is {@code FAIL TIMEOUT}: certainly
 *       not granted. {@link InvalidArgumentException} and {@link UnsupportedFeatureException} are
 *       {@code FAIL INVALID_ARGUMENT} / {@code FAIL UNSUPPORTED}: refused before anything happened.
 *       Anything else (unavailable, session expired, deadlock, lost right after the grant, no answer
 *       in time, a bug) is {@code UNKNOWN}: it may have been granted.
 *   <li>Release: {@link LockLostException} is {@code FAIL LOST}; any other {@link NotOwnerException}
 *       is {@code FAIL NOT_OWNER}; anything else is {@code UNKNOWN}.
 *   <li>Register compare-and-set: {@link ConflictException} is {@code FAIL CONFLICT}; invalid
 *       arguments as for acquires; anything else {@code UNKNOWN} (the write may have landed).
 *   <li>Register read: any failure is {@code UNKNOWN} (a read changes nothing either way).
 * </ul>
 *
 * <p>The error text of an {@code UNKNOWN} is the {@link io.holdfast.ErrorCode} name when the
 * exception carries one, {@code NO_ANSWER} when the harness gave up waiting, {@code INTERRUPTED},
 * or the exception's class name.
 */
public final class Outcomes {
    /** The error of a wait the harness itself gave up on (the call did not return in time). */
    public static final String NO_ANSWER = "NO_ANSWER";

    private Outcomes() {}

    /** A completion type with its error text. */
    public record Outcome(Op.Type type, String error) {}

    /** The outcome of an acquire that threw {@code t}. */
    public static Outcome ofAcquire(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof LockTimeoutException) {
            return new Outcome(Op.Type.FAIL, "TIMEOUT");
        }
        if (e instanceof InvalidArgumentException || e instanceof UnsupportedFeatureException) {
            return new Outcome(Op.Type.FAIL, errorName(e));
        }
        return new Outcome(Op.Type.UNKNOWN, errorName(e));
    }

    /** The outcome of a release that threw {@code t}. */
    public static Outcome ofRelease(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof LockLostException) {
            return new Outcome(Op.Type.FAIL, "LOST");
        }
        if (e instanceof NotOwnerException) {
            return new Outcome(Op.Type.FAIL, "NOT_OWNER");
        }
        return new Outcome(Op.Type.UNKNOWN, errorName(e));
    }

    /** The outcome of a compare-and-set that threw {@code t}. */
    public static Outcome ofCas(Throwable t) {
        Throwable e = unwrap(t);
        if (e instanceof ConflictException) {
            return new Outcome(Op.Type.FAIL, "CONFLICT");
        }
        if (e instanceof InvalidArgumentException || e instanceof UnsupportedFeatureException) {
            return new Outcome(Op.Type.FAIL, errorName(e));
        }
        return new Outcome(Op.Type.UNKNOWN, errorName(e));
    }

    /** The outcome of a register read that threw {@code t}. */
    public static Outcome ofRead(Throwable t) {
        return new Outcome(Op.Type.UNKNOWN, errorName(unwrap(t)));
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
