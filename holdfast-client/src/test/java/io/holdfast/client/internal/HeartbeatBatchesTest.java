package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.holdfast.ErrorCode;
import io.holdfast.UnavailableException;
import io.holdfast.model.Reply;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** {@link HeartbeatBatches} in virtual time, with a sender that records its calls and answers as told. */
class HeartbeatBatchesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final FakeTicker ticker = new FakeTicker();
    private final ManualScheduler scheduler = new ManualScheduler(ticker);

    /** Records each call; answers {@code many} with {@code manyAnswer} (null: OK for each), {@code one} with OK. */
    private final class Recording implements HeartbeatBatches.Sender {
        final List<List<String>> manyCalls = new ArrayList<>();
        final List<String> oneCalls = new ArrayList<>();
        Throwable manyFails;

        @Override
        public CompletableFuture<List<Reply>> many(List<String> sessionIds, Duration timeout) {
            manyCalls.add(List.copyOf(sessionIds));
            if (manyFails != null) {
                return CompletableFuture.failedFuture(manyFails);
            }
            List<Reply> replies = new ArrayList<>();
            for (String id : sessionIds) {
                replies.add(
                        id.startsWith("gone")
                                ? Reply.Failed.of(ErrorCode.SESSION_EXPIRED, "session " + id + " is unknown")
                                : id.startsWith("theirs")
                                        ? Reply.Failed.of(
                                                ErrorCode.PERMISSION_DENIED, "session " + id + " is not yours")
                                        : Reply.Ok.INSTANCE);
            }
            return CompletableFuture.completedFuture(replies);
        }

        @Override
        public CompletableFuture<Reply> one(String sessionId, Duration timeout) {
            oneCalls.add(sessionId);
            return CompletableFuture.completedFuture(Reply.Ok.INSTANCE);
        }
    }

    @Test
    void heartbeatsAskedWithinTheLingerGoInOneCallEachAnsweredWithItsOwnReply() throws Exception {
        Recording sender = new Recording();
        HeartbeatBatches beats = new HeartbeatBatches(sender, scheduler, ticker);
        CompletableFuture<Reply> a = beats.beat("s-a", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS - 1));
        CompletableFuture<Reply> b = beats.beat("s-b", TIMEOUT);
        CompletableFuture<Reply> gone = beats.beat("gone-c", TIMEOUT);
        CompletableFuture<Reply> theirs = beats.beat("theirs-d", TIMEOUT);
        assertThat(sender.manyCalls)
                .as("nothing sent before the first one's linger")
                .isEmpty();

        scheduler.advance(Duration.ofMillis(1));
        assertThat(sender.manyCalls).containsExactly(List.of("s-a", "s-b", "gone-c", "theirs-d"));
        assertThat(a.get()).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(b.get()).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(gone.get())
                .isInstanceOfSatisfying(
                        Reply.Failed.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.SESSION_EXPIRED));

        assertThat(theirs)
                .as("a refusal that a single heartbeat gets as a status: the exception it stands for")
                .failsWithin(Duration.ZERO)
                .withThrowableOfType(ExecutionException.class)
                .havingCause()
                .isInstanceOf(io.holdfast.PermissionDeniedException.class)
                .withMessageContaining("not yours");

        CompletableFuture<Reply> later = beats.beat("s-a", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS));
        assertThat(sender.manyCalls).as("the next round: a call of its own").hasSize(2);
        assertThat(later.get()).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void aCallThatFailsFailsEveryHeartbeatOfItWithItsFailure() {
        Recording sender = new Recording();
        sender.manyFails = new UnavailableException("127.0.0.1:4653: connection refused");
        HeartbeatBatches beats = new HeartbeatBatches(sender, scheduler, ticker);
        CompletableFuture<Reply> a = beats.beat("s-a", TIMEOUT);
        CompletableFuture<Reply> b = beats.beat("s-b", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS));

        for (CompletableFuture<Reply> f : List.of(a, b)) {
            assertThat(f).isCompletedExceptionally();
            assertThat(f)
                    .failsWithin(Duration.ZERO)
                    .withThrowableOfType(ExecutionException.class)
                    .havingCause()
                    .isInstanceOf(UnavailableException.class)
                    .withMessageContaining("connection refused");
        }
        assertThat(sender.oneCalls)
                .as("no heartbeat sent again here: the sessions ask again")
                .isEmpty();
    }

    @Test
    void aMemberThatDoesNotKnowTheCallIsSentEachHeartbeatAloneForAMinuteThenTheCallAgain() throws Exception {
        Recording sender = new Recording();
        sender.manyFails =
                new UnavailableException("127.0.0.1:4653: UNIMPLEMENTED", Status.UNIMPLEMENTED.asRuntimeException());
        HeartbeatBatches beats = new HeartbeatBatches(sender, scheduler, ticker);
        CompletableFuture<Reply> a = beats.beat("s-a", TIMEOUT);
        CompletableFuture<Reply> b = beats.beat("s-b", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS));
        assertThat(a.get()).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(b.get()).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(sender.oneCalls).containsExactly("s-a", "s-b");

        ticker.advance(Duration.ofSeconds(HeartbeatBatches.SINGLES_FOR_SECONDS).minusMillis(1));
        assertThat(beats.beat("s-a", TIMEOUT).get())
                .as("alone and at once, within the minute")
                .isEqualTo(Reply.Ok.INSTANCE);
        assertThat(sender.manyCalls).hasSize(1);

        ticker.advance(Duration.ofMillis(1));
        sender.manyFails = null;
        CompletableFuture<Reply> after = beats.beat("s-b", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS));
        assertThat(sender.manyCalls).as("the call tried again after the minute").hasSize(2);
        assertThat(after.get()).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void aFullCallGoesAtOnceWithoutWaitingForTheLinger() {
        Recording sender = new Recording();
        HeartbeatBatches beats = new HeartbeatBatches(sender, scheduler, ticker);
        List<CompletableFuture<Reply>> asked = new ArrayList<>();
        for (int i = 0; i < HeartbeatBatches.MAX_PER_CALL; i++) {
            asked.add(beats.beat("s-" + i, TIMEOUT));
        }
        assertThat(sender.manyCalls).hasSize(1);
        assertThat(sender.manyCalls.get(0)).hasSize(HeartbeatBatches.MAX_PER_CALL);
        assertThat(asked).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());

        beats.beat("s-next", TIMEOUT);
        scheduler.advance(Duration.ofMillis(HeartbeatBatches.LINGER_MILLIS));
        assertThat(sender.manyCalls)
                .as("the linger's flush finds only the next one")
                .hasSize(2);
        assertThat(sender.manyCalls.get(1)).containsExactly("s-next");
    }
}
