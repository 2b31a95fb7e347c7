package io.holdfast.server.node;

import io.holdfast.core.CommandCodec;
import io.holdfast.core.Quotas;
import io.holdfast.internal.Causes;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's duty to bring the table's quotas while access control is off to this node's
 * options ({@code --limit}; the defaults without them): as it starts to lead, and again each time a
 * member reports its protocol version, it proposes a {@link Command.SetQuotas} if the table's
 * differ. The quotas are replicated state, applied at one point of the log on every replica; the
 * options are only where the leader takes them from.
 *
 * <p><b>Guarantees.</b> Nothing of protocol version 7 is proposed while some member cannot read it
 * (the cluster's version is looked up first, and the node logs once that it waits; the state
 * machine's own admission would refuse to log it anyway), and a cluster
 * whose leader's options are the defaults, as the table's are until a first {@code --limit}, logs
 * nothing at all. At most one proposal is in flight. <b>Not guaranteed:</b> that members with
 * different {@code --limit} options agree: the table's quotas follow whichever leads, so give every
 * member the same. Failure story: the leader that proposed loses its leadership before the entry
 * commits; the entry may be lost, and the next leader, finding the table's quotas unlike its
 * options, proposes them again.
 */
final class QuotaOptions {
    private static final Logger LOG = LoggerFactory.getLogger(QuotaOptions.class);

    private final NodeParts parts;
    private final AtomicBoolean proposing = new AtomicBoolean();
    private final AtomicBoolean toldWaiting = new AtomicBoolean();

    QuotaOptions(NodeParts parts) {
        this.parts = parts;
    }

    /** After entries were applied: if a member reported its version, the cluster may now take them. */
    void applied(List<Command.Envelope> commands) {
        for (Command.Envelope c : commands) {
            if (c != null && c.command() instanceof Command.ReportVersion && parts.leads()) {
                parts.events().runInOrder(this::offer);
                return;
            }
        }
    }

    /** Proposes this node's quotas if it leads and the table's differ from them. */
    void offer() {
        Quotas wanted = parts.config().quotas();
        if (!parts.leads() || parts.machine().read(t -> t.openQuotas().equals(wanted))) {
            return;
        }
        Command.SetQuotas command = new Command.SetQuotas(wanted.changed());
        String tooNew = parts.clusterVersion().refusal(CommandCodec.typeOf(command));
        if (tooNew != null) {
            if (toldWaiting.compareAndSet(false, true)) {
                LOG.info(
                        "The quotas of this node's --limit options are proposed once every member can read them: the cluster {}",
                        tooNew);
            }
            return;
        }
        if (!proposing.compareAndSet(false, true)) {
            return;
        }
        LOG.info(
                "The quotas while access control is off differ from this node's options: proposing {}",
                command.limits().isEmpty() ? "the defaults" : command.limits());
        parts.proposer()
                .propose(Command.Envelope.of(parts.duties().clusterNow(), command))
                .whenComplete((reply, error) -> {
                    proposing.set(false);
                    if (error != null || reply instanceof Reply.Failed) {
                        LOG.warn(
                                "The quotas of this node's options were not applied: {}",
                                error != null ? Causes.rootMessage(error) : reply);
                    }
                });
    }
}
