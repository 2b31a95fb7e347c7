package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command.ClientCommand;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Exactly-once replies of {@link LockTable}: every client command carries an {@link Invocation}
 * (session, sequence number, and the sequence numbers below which its client has heard every
 * reply); the table remembers the reply of each invocation in its {@link Session} until the
 * client acknowledges it, and answers a retry from that memory instead of applying it again.
 *
 * <p>Guarantees: a command is answered from memory or applied, never both, and only for its
 * session's own identity (checked before the memory, so another identity learns nothing from
 * it); an acknowledged invocation is refused, never applied again. It does not remember refusals
 * of malformed input: those change nothing, and a retry is refused the same way. The remembered
 * reply of a queued acquire is updated when the waiter is granted, times out or is cancelled
 * ({@link Queues}, {@link Releases}), so a client that lost the grant event learns the outcome by
 * retrying the acquire.
 */
final class ReplyMemory {
    private final Sessions sessions;
    private final Admission admission;
    private final Set<PlantedBug> bugs;

    ReplyMemory(Sessions sessions, Admission admission, Set<PlantedBug> bugs) {
        this.sessions = sessions;
        this.admission = admission;
        this.bugs = bugs;
    }

    /**
     * Answers {@code command}, sent by {@code identity}: from its session's memory if the
     * invocation was applied before, else by {@code fresh} (which may throw {@link
     * InvalidArgumentException} for malformed input, before it changes anything), remembering what
     * it answered while the session lives.
     */
    Reply answer(ClientCommand command, String identity, Function<Session, Reply> fresh) {
        Invocation inv = command.invocation();
        if (inv == null) {
            return Failed.of(ErrorCode.INVALID_ARGUMENT, "client commands need an invocation id");
        }
        Session session = sessions.get(inv.sessionId());
        if (session == null) {
            return Sessions.unknown(inv.sessionId());
        }
        if (!Objects.equals(session.identity, identity)) {
            // Checked before the reply memory: another identity learns nothing from it.
            return admission.refuse(
                    "session " + inv.sessionId() + " belongs to another identity than " + Admission.describe(identity));
        }
        if (inv.seq() <= 0 || inv.ackedBelow() < 0 || inv.ackedBelow() > inv.seq()) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "invocation needs 0 < seq and 0 <= ackedBelow <= seq, not " + inv.seq() + "/" + inv.ackedBelow());
        }
        session.acknowledge(inv.ackedBelow());
        if (inv.seq() < session.ackedBelow) {
            return Failed.of(
                    ErrorCode.INVALID_ARGUMENT,
                    "request " + inv.seq() + " was already acknowledged by its client; it cannot be answered again");
        }
        Reply cached = session.cachedReply(inv.seq());
        // PLANTED BUG (verification only): retry-applied-twice: a retry is not answered from memory.
        if (cached != null && bugs.contains(PlantedBug.RETRY_APPLIED_TWICE)) {
            cached = null;
        }
        if (cached != null) {
            return cached;
        }
        Reply reply;
        try {
            reply = fresh.apply(session);
        } catch (InvalidArgumentException e) {
            // Malformed input is refused before anything changes, and a retry is refused the same
            // way, so there is nothing to remember: the table stays exactly as it was.
            return Failed.of(ErrorCode.INVALID_ARGUMENT, e.getMessage());
        }
        if (sessions.holds(session)) {
            session.remember(inv.seq(), reply);
        }
        return reply;
    }
}
