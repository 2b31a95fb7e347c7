package io.holdfast.cli;

import io.holdfast.RetryPolicy;
import io.holdfast.Ticker;
import io.holdfast.UnavailableException;
import io.holdfast.client.HoldfastProvider;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.lease.Retries;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.protocol.TlsFiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import picocli.CommandLine.Mixin;

/**
 * Calls that only the Holdfast server answers (sessions, members, access rules), made straight on
 * its gRPC protocol with the backend URI's addresses, TLS files and token, and the rule by which
 * every operator command waits through an election ({@link #retrying}).
 *
 * <p><b>Guarantees.</b> A call that fails because no member could serve it ({@link
 * UnavailableException}: no leader yet, an election under way, a member that refuses connections
 * while another may lead) is made again, with the client's backoff ({@link RetryPolicy#defaults()}:
 * 50 ms doubling up to 2 s), each attempt starting from the next member of the URI and bounded by
 * what is left of the timeout, until the command's {@code --timeout} has passed; then the command
 * fails with one line that names the last reason and exit code {@value ExitCodes#BACKEND_UNAVAILABLE}.
 * Any other answer (an unknown id, a refusal, a permission) ends the command at once, with its own
 * exit code.
 *
 * <p>As a picocli {@code @Mixin}, it gives a command {@code --backend} ({@link BackendOption}) and
 * {@code --timeout} ({@link CallTimeout}), and makes the command's calls with them ({@link
 * #call(String, Function)}, {@link #submit(String, Command)}).
 *
 * <p><b>Does not guarantee</b> that a change whose answer was lost did not take effect: a retried
 * change then meets the new state (a second {@code members remove n1} says that n1 is no member).
 */
final class ServerCalls {
    /** The deadline of one attempt, redirects included, when the command's timeout is longer. */
    private static final Duration ATTEMPT = Duration.ofSeconds(10);

    @Mixin
    BackendOption backend;

    @Mixin
    CallTimeout timeout;

    /** The backend's URI, as {@link BackendOption#uri()} reads it. */
    String uri() {
        return backend.uri();
    }

    /** The command's {@code --timeout}; zero or negative is a usage error ({@link CallTimeout#get()}). */
    Duration timeout() {
        return timeout.get();
    }

    /** As {@link #call(String, String, Duration, Function)} with the command's backend and timeout. */
    <T> T call(String what, Function<ClusterTransport, CompletableFuture<T>> call) throws InterruptedException {
        return call(uri(), what, timeout(), call);
    }

    /** As {@link #submit(String, String, Duration, Command)} with the command's backend and timeout. */
    Reply submit(String what, Command command) throws InterruptedException {
        return submit(uri(), what, timeout(), command);
    }

    /**
     * Submits {@code command} through the log as {@link #call(String, String, Duration, Function)}
     * makes a call, and returns its answer when the cluster applied it. A refusal is thrown as the
     * API's exception for its code ({@link io.holdfast.ErrorCode#toException}), which {@link Main}
     * prints as one line and exits with {@link ExitCodes#of}.
     */
    static Reply submit(String uri, String what, Duration timeout, Command command) throws InterruptedException {
        Reply reply = call(uri, what, timeout, t -> t.submit(command));
        if (reply instanceof Reply.Failed f) {
            throw f.code().toException(f.message());
        }
        return reply;
    }

    /** As {@link #call(String, String, Duration, Function)} with the default timeout, 30 s. */
    static <T> T call(String uri, String what, Function<ClusterTransport, CompletableFuture<T>> call)
            throws InterruptedException {
        return call(uri, what, CallTimeout.DEFAULT, call);
    }

    /**
     * Opens a connection to the cluster of {@code uri}, makes the call, and waits for its answer,
     * making it again while no member can serve it, for up to {@code timeout}.
     *
     * @param what what is asked, for the message when the backend is no Holdfast server
     * @throws CliFailure ({@value ExitCodes#USAGE}) for a backend that is no Holdfast server, and
     *     ({@value ExitCodes#BACKEND_UNAVAILABLE}) when the cluster does not answer in time
     */
    static <T> T call(String uri, String what, Duration timeout, Function<ClusterTransport, CompletableFuture<T>> call)
            throws InterruptedException {
        if (!uri.startsWith("holdfast://")) {
            throw new CliFailure(ExitCodes.USAGE, what + " belong to a Holdfast server (holdfast://…), not " + uri);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        List<MemberAddress> members = HoldfastProvider.members(uri);
        TlsFiles tls = HoldfastProvider.tls(uri);
        String token = HoldfastProvider.token(uri);
        return retrying(timeout, ServerCalls::noLeader, attempt -> {
            // Each attempt starts from the next member: one that still answers for a leadership it
            // lost (a leader that has just removed itself) is not asked first every time.
            List<MemberAddress> from = new ArrayList<>(members);
            Collections.rotate(from, -((attempt - 1) % from.size()));
            try (ClusterTransport transport =
                    new ClusterTransport(from, timeout.compareTo(ATTEMPT) < 0 ? timeout : ATTEMPT, tls, token)) {
                return await(call.apply(transport), deadline, timeout);
            }
        });
    }

    /**
     * Runs {@code attempt} until it returns, fails in a way {@code retryable} refuses, or {@code
     * timeout} has passed since the first attempt began (then the last failure is reported as one
     * line with {@value ExitCodes#BACKEND_UNAVAILABLE}). For commands that do not go through {@link
     * #call} ({@code backup} over HTTP, {@code revoke} through a client) but must wait through an
     * election the same way.
     */
    static <T, E extends Exception> T retrying(
            Duration timeout, Predicate<? super RuntimeException> retryable, Retries.Attempt<T, E> attempt)
            throws E, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RetryPolicy d = RetryPolicy.defaults();
        RetryPolicy policy = new RetryPolicy(d.initialDelay(), d.maxDelay(), d.multiplier(), d.jitter(), 1000, timeout);
        return Retries.of(policy, Ticker.system())
                .within(() -> deadline - System.nanoTime())
                .onGiveUp((last, attempts, elapsed) -> last instanceof CliFailure
                        ? last
                        : new CliFailure(
                                ExitCodes.BACKEND_UNAVAILABLE,
                                Main.withRootCause(last) + " (still so after " + attempts
                                        + (attempts == 1 ? " attempt in " : " attempts in ")
                                        + Durations.format(elapsed.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                                        + ", --timeout " + Durations.format(timeout) + ")",
                                last))
                .call(attempt, retryable);
    }

    /** No member could serve the call, or the attempt ran out of time: worth another attempt. */
    static boolean noLeader(RuntimeException e) {
        return e instanceof UnavailableException || e instanceof AttemptTimedOut;
    }

    private static <T> T await(CompletableFuture<T> answer, long deadline, Duration timeout)
            throws InterruptedException {
        long left = deadline - System.nanoTime();
        try {
            return answer.get(Math.max(left, 1), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new AttemptTimedOut("the cluster did not answer within " + Durations.format(timeout));
        }
    }

    /** The command's time ran out during an attempt. */
    private static final class AttemptTimedOut extends RuntimeException {
        private static final long serialVersionUID = 1L;

        AttemptTimedOut(String message) {
            super(message, null, false, false);
        }
    }
}
