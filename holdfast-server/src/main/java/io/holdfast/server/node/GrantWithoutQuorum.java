package io.holdfast.server.node;

import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PLANTED BUG (verification only): {@link PlantedBug#GRANT_WITHOUT_QUORUM}. The leader answers an
 * acquire from its local table: if the lock looks free there (no holder, no waiter, no
 * lock-delay) and the session is known, it replies Granted at once with a token it makes up (one
 * above the largest it has seen or made up), and only then proposes the acquire to the log, in the
 * background, ignoring its outcome. Every other command goes through the log as usual.
 *
 * <p>What breaks: a leader cut off from the majority still grants free-looking locks, while the
 * majority elects a new leader that grants them to others; and even a healthy leader grants a lock
 * twice to two acquires that arrive before the first is applied. Never used unless the bug is
 * planted.
 */
public final class GrantWithoutQuorum {
    private static final Logger LOG = LoggerFactory.getLogger(GrantWithoutQuorum.class);

    private final Function<Command.Envelope, CompletableFuture<Reply>> propose;
    private final AtomicLong lastMadeUp = new AtomicLong();

    /** @param propose sends a command in its envelope through the log */
    public GrantWithoutQuorum(Function<Command.Envelope, CompletableFuture<Reply>> propose) {
        this.propose = propose;
    }

    /**
     * Submits a stamped command: a free-looking acquire is answered at once from the local table.
     *
     * @param read runs a function on the local table under the state machine's lock
     */
    public CompletableFuture<Reply> submit(Command.Envelope stamped, Function<Function<LockTable, Reply>, Reply> read) {
        if (stamped.command() instanceof Command.Acquire acquire) {
            Reply local = read.apply(table -> looksFree(acquire, table)
                    ? new Reply.Granted(lastMadeUp.updateAndGet(t -> Math.max(t, table.lastToken()) + 1))
                    : null);
            if (local != null) {
                propose.apply(stamped)
                        .whenComplete((reply, error) -> LOG.debug(
                                "Acquire of {} granted without quorum; the log answered {}",
                                acquire.name(),
                                error == null ? reply : error.toString()));
                return CompletableFuture.completedFuture(local);
            }
        }
        return propose.apply(stamped);
    }

    private static boolean looksFree(Command.Acquire acquire, LockTable table) {
        try {
            Names.check(acquire.name());
        } catch (InvalidArgumentException e) {
            return false;
        }
        return acquire.mode() != null
                && acquire.invocation() != null
                && table.hasSession(acquire.invocation().sessionId())
                && table.describe(acquire.name(), table.now()).isEmpty();
    }
}
