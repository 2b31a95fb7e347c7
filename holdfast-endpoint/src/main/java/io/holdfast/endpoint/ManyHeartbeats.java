package io.holdfast.endpoint;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.LockService;
import io.holdfast.model.Reply;
import io.holdfast.protocol.Convert;
import io.holdfast.protocol.v1.KeepAliveManyResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code KeepAliveMany} call: heartbeats for several of the caller's sessions in one message.
 *
 * <p><b>Guarantees.</b> One reply per session asked for, in the same order. A session of another
 * identity gets its own {@code PERMISSION_DENIED} reply and is not kept alive; the others go to
 * the backend in one {@link LockService#keepAliveMany} call, whose rules hold for each (a refusal
 * of one session is its reply; a failure of the backend fails the call, and the client then tries
 * another member, as for one heartbeat). More than {@value #MAX_SESSIONS} sessions is {@code
 * INVALID_ARGUMENT}, and nothing is kept alive.
 *
 * <p><b>Failure story.</b> A connection carries 1,000 sessions of an application, one of them
 * opened by another identity and handed over by mistake: its reply says it is not the caller's,
 * and the 999 others are kept alive as if it had not been asked for.
 */
final class ManyHeartbeats {
    /** The most sessions one call may name. */
    static final int MAX_SESSIONS = 10_000;

    private ManyHeartbeats() {}

    static CompletableFuture<KeepAliveManyResponse> answer(LockService backend, String identity, List<String> asked) {
        if (asked.size() > MAX_SESSIONS) {
            throw new InvalidArgumentException(
                    "at most " + MAX_SESSIONS + " sessions a heartbeat call, not " + asked.size());
        }
        Reply[] replies = new Reply[asked.size()];
        List<String> mine = new ArrayList<>(asked.size());
        List<Integer> at = new ArrayList<>(asked.size());
        boolean[] may = backend.mayUseSessions(identity, asked);
        for (int i = 0; i < replies.length; i++) {
            String id = asked.get(i);
            if (may[i]) {
                mine.add(id);
                at.add(i);
            } else {
                replies[i] = Reply.Failed.of(
                        ErrorCode.PERMISSION_DENIED,
                        EventStreams.notYours(id, identity).getMessage());
            }
        }
        CompletableFuture<List<Reply>> answered =
                mine.isEmpty() ? CompletableFuture.completedFuture(List.of()) : backend.keepAliveMany(mine);
        return answered.thenApply(r -> {
            if (r.size() != mine.size()) {
                throw new IllegalStateException(
                        "the lock service answered " + r.size() + " heartbeats of " + mine.size());
            }
            for (int k = 0; k < r.size(); k++) {
                replies[at.get(k)] = r.get(k);
            }
            KeepAliveManyResponse.Builder b = KeepAliveManyResponse.newBuilder();
            for (Reply reply : replies) {
                b.addReplies(Convert.toProto(reply));
            }
            return b.build();
        });
    }
}
