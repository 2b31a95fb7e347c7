package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.WaiterInfo;
import io.holdfast.core.Command;
import io.holdfast.core.Event;
import io.holdfast.core.LockTable.RegisterValue;
import io.holdfast.core.Reply;
import io.holdfast.protocol.v1.Acquire;
import io.holdfast.protocol.v1.CancelWait;
import io.holdfast.protocol.v1.CloseSession;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.Invocation;
import io.holdfast.protocol.v1.OpenSession;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import io.holdfast.protocol.v1.RegisterSet;
import io.holdfast.protocol.v1.Release;
import io.holdfast.protocol.v1.Renew;
import io.holdfast.protocol.v1.ReplyMessage;
import io.holdfast.protocol.v1.Revoke;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Conversions between the core types ({@link Command}, {@link Reply}, {@link Event}, {@link
 * io.holdfast.LockInfo}) and their messages in {@code holdfast/v1/holdfast.proto}.
 *
 * <p>Reading is total: a message that does not stand for a core value (no kind set, an enum value
 * that is unspecified or unknown to this build, a changing command without its invocation) raises
 * {@link InvalidArgumentException} naming what is wrong, never a {@code NullPointerException}.
 * Field values are not range-checked here: the lock table refuses out-of-range values with a
 * reply, as it does for every transport.
 *
 * <p>Commands travel without their time (the proposer stamps it), so a command read from a message
 * has time 0. Only the commands a client may send have a message: {@link Command.Tick} and {@link
 * Command.ExpireSession} are the leader's own, and {@link Command.KeepAlive} has its own call.
 */
public final class Convert {
    private Convert() {}

    // ------------------------------------------------------------------------------------ commands

    /**
     * The message for a command a client sends.
     *
     * @throws InvalidArgumentException for a command no client may send, or one with a null field
     */
    public static CommandRequest toProto(Command command) {
        CommandRequest.Builder b = CommandRequest.newBuilder();
        if (command instanceof Command.OpenSession x) {
            b.setOpenSession(OpenSession.newBuilder()
                    .setSessionId(text(x.sessionId(), "sessionId"))
                    .setClientName(text(x.clientName(), "clientName"))
                    .setTtlMillis(x.ttlMillis())
                    .setLockDelayMillis(x.lockDelayMillis()));
        } else if (command instanceof Command.CloseSession x) {
            b.setCloseSession(CloseSession.newBuilder().setInvocation(toProto(x.invocation())));
        } else if (command instanceof Command.Acquire x) {
            b.setAcquire(Acquire.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setName(text(x.name(), "name"))
                    .setMode(ProtoEnums.toProto(x.mode()))
                    .setPermits(x.permits())
                    .setMaxPermits(x.maxPermits())
                    .setOwner(x.owner())
                    .setWaitMillis(x.waitMillis())
                    .setLeaseMillis(x.leaseMillis())
                    .setReentrant(x.reentrant()));
        } else if (command instanceof Command.AcquireAll x) {
            io.holdfast.protocol.v1.AcquireAll.Builder all = io.holdfast.protocol.v1.AcquireAll.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setMode(ProtoEnums.toProto(x.mode()))
                    .setOwner(x.owner())
                    .setWaitMillis(x.waitMillis())
                    .setLeaseMillis(x.leaseMillis());
            for (String name : x.names()) {
                all.addNames(text(name, "names"));
            }
            b.setAcquireAll(all);
        } else if (command instanceof Command.Release x) {
            b.setRelease(Release.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setName(text(x.name(), "name"))
                    .setToken(x.token()));
        } else if (command instanceof Command.Renew x) {
            b.setRenew(Renew.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setName(text(x.name(), "name"))
                    .setToken(x.token()));
        } else if (command instanceof Command.CancelWait x) {
            b.setCancelWait(CancelWait.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setName(text(x.name(), "name"))
                    .setWaitSeq(x.waitSeq()));
        } else if (command instanceof Command.RegisterSet x) {
            if (x.value() == null) {
                throw new InvalidArgumentException("a register value must not be null");
            }
            RegisterSet.Builder r = RegisterSet.newBuilder()
                    .setInvocation(toProto(x.invocation()))
                    .setKey(text(x.key(), "key"))
                    .setExpectedVersion(x.expectedVersion())
                    .setValue(ByteString.copyFrom(x.value()))
                    .setFenceToken(x.fenceToken());
            if (x.fenceName() != null) {
                r.setFenceName(x.fenceName());
            }
            b.setRegisterSet(r);
        } else if (command instanceof Command.Revoke x) {
            b.setRevoke(Revoke.newBuilder().setName(text(x.name(), "name")));
        } else if (command instanceof Command.SetAccessRules x) {
            io.holdfast.protocol.v1.SetAccessRules.Builder rules = io.holdfast.protocol.v1.SetAccessRules.newBuilder();
            if (x.text() != null) {
                rules.setText(x.text());
            }
            b.setSetAccessRules(rules);
        } else {
            throw new InvalidArgumentException("a client cannot send " + kindOf(command));
        }
        return b.build();
    }

    /**
     * The command a message stands for, with time 0.
     *
     * @throws InvalidArgumentException if the message is malformed
     */
    public static Command fromProto(CommandRequest m) {
        return switch (m.getKindCase()) {
            case OPEN_SESSION -> {
                OpenSession x = m.getOpenSession();
                yield new Command.OpenSession(
                        0, x.getSessionId(), x.getClientName(), x.getTtlMillis(), x.getLockDelayMillis());
            }
            case CLOSE_SESSION -> {
                CloseSession x = m.getCloseSession();
                yield new Command.CloseSession(0, invocation(x.hasInvocation(), x.getInvocation(), "close_session"));
            }
            case ACQUIRE -> {
                Acquire x = m.getAcquire();
                yield new Command.Acquire(
                        0,
                        invocation(x.hasInvocation(), x.getInvocation(), "acquire"),
                        x.getName(),
                        ProtoEnums.fromProto(x.getMode(), "acquire.mode"),
                        x.getPermits(),
                        x.getMaxPermits(),
                        x.getOwner(),
                        x.getWaitMillis(),
                        x.getLeaseMillis(),
                        x.getReentrant());
            }
            case ACQUIRE_ALL -> {
                io.holdfast.protocol.v1.AcquireAll x = m.getAcquireAll();
                yield new Command.AcquireAll(
                        0,
                        invocation(x.hasInvocation(), x.getInvocation(), "acquire_all"),
                        x.getNamesList(),
                        ProtoEnums.fromProto(x.getMode(), "acquire_all.mode"),
                        x.getOwner(),
                        x.getWaitMillis(),
                        x.getLeaseMillis());
            }
            case RELEASE -> {
                Release x = m.getRelease();
                yield new Command.Release(
                        0, invocation(x.hasInvocation(), x.getInvocation(), "release"), x.getName(), x.getToken());
            }
            case RENEW -> {
                Renew x = m.getRenew();
                yield new Command.Renew(
                        0, invocation(x.hasInvocation(), x.getInvocation(), "renew"), x.getName(), x.getToken());
            }
            case CANCEL_WAIT -> {
                CancelWait x = m.getCancelWait();
                yield new Command.CancelWait(
                        0,
                        invocation(x.hasInvocation(), x.getInvocation(), "cancel_wait"),
                        x.getName(),
                        x.getWaitSeq());
            }
            case REGISTER_SET -> {
                RegisterSet x = m.getRegisterSet();
                yield new Command.RegisterSet(
                        0,
                        invocation(x.hasInvocation(), x.getInvocation(), "register_set"),
                        x.getKey(),
                        x.getExpectedVersion(),
                        x.getValue().toByteArray(),
                        x.hasFenceName() ? x.getFenceName() : null,
                        x.getFenceToken());
            }
            case REVOKE -> new Command.Revoke(0, m.getRevoke().getName());
            case SET_ACCESS_RULES ->
                new Command.SetAccessRules(
                        0,
                        m.getSetAccessRules().hasText() ? m.getSetAccessRules().getText() : null);
            case KIND_NOT_SET -> throw new InvalidArgumentException("the command request has no command");
        };
    }

    private static Invocation toProto(Command.Invocation inv) {
        return Invocation.newBuilder()
                .setSessionId(inv.sessionId())
                .setSeq(inv.seq())
                .setAckedBelow(inv.ackedBelow())
                .build();
    }

    private static Command.Invocation invocation(boolean present, Invocation inv, String command) {
        if (!present) {
            throw new InvalidArgumentException("the " + command + " command has no invocation");
        }
        return new Command.Invocation(inv.getSessionId(), inv.getSeq(), inv.getAckedBelow());
    }

    // ------------------------------------------------------------------------------------- replies

    /** The message for a reply. */
    public static ReplyMessage toProto(Reply reply) {
        ReplyMessage.Builder b = ReplyMessage.newBuilder();
        if (reply instanceof Reply.Ok x) {
            b.setOk(ReplyMessage.Ok.newBuilder().setValue(x.value()));
        } else if (reply instanceof Reply.Granted x) {
            b.setGranted(ReplyMessage.Granted.newBuilder().setToken(x.token()).setHoldCount(x.holdCount()));
        } else if (reply instanceof Reply.GrantedAll x) {
            b.setGrantedAll(ReplyMessage.GrantedAll.newBuilder().addAllTokens(x.tokens()));
        } else if (reply instanceof Reply.Queued) {
            b.setQueued(ReplyMessage.Queued.getDefaultInstance());
        } else if (reply instanceof Reply.Busy) {
            b.setBusy(ReplyMessage.Busy.getDefaultInstance());
        } else if (reply instanceof Reply.Written x) {
            b.setWritten(ReplyMessage.Written.newBuilder().setVersion(x.version()));
        } else if (reply instanceof Reply.Failed x) {
            b.setFailed(ReplyMessage.Failed.newBuilder()
                    .setCode(ProtoEnums.toProto(x.code()))
                    .setMessage(x.message() == null ? "" : x.message())
                    .addAllCycle(x.cycle())
                    .setCurrentVersion(x.currentVersion()));
        } else {
            throw new InvalidArgumentException("unknown reply " + reply);
        }
        return b.build();
    }

    /**
     * The reply a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed
     */
    public static Reply fromProto(ReplyMessage m) {
        return switch (m.getKindCase()) {
            case OK ->
                m.getOk().getValue() == 0
                        ? Reply.Ok.INSTANCE
                        : new Reply.Ok(m.getOk().getValue());
            case GRANTED ->
                new Reply.Granted(m.getGranted().getToken(), m.getGranted().getHoldCount());
            case GRANTED_ALL -> new Reply.GrantedAll(m.getGrantedAll().getTokensList());
            case QUEUED -> Reply.Queued.INSTANCE;
            case BUSY -> Reply.Busy.INSTANCE;
            case WRITTEN -> new Reply.Written(m.getWritten().getVersion());
            case FAILED -> {
                ReplyMessage.Failed x = m.getFailed();
                yield new Reply.Failed(
                        ProtoEnums.fromProto(x.getCode()), x.getMessage(), x.getCycleList(), x.getCurrentVersion());
            }
            case KIND_NOT_SET -> throw new InvalidArgumentException("the reply message has no reply");
        };
    }

    // -------------------------------------------------------------------------------------- events

    /** The message for an event. */
    public static EventMessage toProto(Event event) {
        EventMessage.Builder b = EventMessage.newBuilder().setSessionId(text(event.sessionId(), "sessionId"));
        if (event instanceof Event.Granted x) {
            b.setGranted(EventMessage.Granted.newBuilder()
                    .setSeq(x.seq())
                    .setName(text(x.name(), "name"))
                    .setToken(x.token()));
        } else if (event instanceof Event.WaitTimedOut x) {
            b.setWaitTimedOut(
                    EventMessage.WaitTimedOut.newBuilder().setSeq(x.seq()).setName(text(x.name(), "name")));
        } else if (event instanceof Event.Lost x) {
            b.setLost(EventMessage.Lost.newBuilder()
                    .setName(text(x.name(), "name"))
                    .setToken(x.token())
                    .setReason(ProtoEnums.toProto(x.reason())));
        } else if (event instanceof Event.SessionExpired) {
            b.setSessionExpired(EventMessage.SessionExpired.getDefaultInstance());
        } else {
            throw new InvalidArgumentException("unknown event " + event);
        }
        return b.build();
    }

    /** The message that opens an event stream: the server delivers from now on. */
    public static EventMessage started(String sessionId) {
        return EventMessage.newBuilder()
                .setSessionId(sessionId)
                .setStarted(EventMessage.Started.getDefaultInstance())
                .build();
    }

    /** The message that tells a stream's reader that events may have been lost. */
    public static EventMessage gap(String sessionId) {
        return EventMessage.newBuilder()
                .setSessionId(sessionId)
                .setGap(EventMessage.Gap.getDefaultInstance())
                .build();
    }

    /**
     * The event a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed, or is a stream marker ({@code
     *     started}, {@code gap}) rather than an event
     */
    public static Event fromProto(EventMessage m) {
        String session = m.getSessionId();
        return switch (m.getKindCase()) {
            case GRANTED -> {
                EventMessage.Granted x = m.getGranted();
                yield new Event.Granted(session, x.getSeq(), x.getName(), x.getToken());
            }
            case WAIT_TIMED_OUT ->
                new Event.WaitTimedOut(
                        session,
                        m.getWaitTimedOut().getSeq(),
                        m.getWaitTimedOut().getName());
            case LOST -> {
                EventMessage.Lost x = m.getLost();
                yield new Event.Lost(session, x.getName(), x.getToken(), ProtoEnums.fromProto(x.getReason()));
            }
            case SESSION_EXPIRED -> new Event.SessionExpired(session);
            case STARTED, GAP ->
                throw new InvalidArgumentException(
                        "the event message is a stream marker (" + m.getKindCase() + "), not an event");
            case KIND_NOT_SET -> throw new InvalidArgumentException("the event message has no event");
        };
    }

    // ---------------------------------------------------------------------------------- inspection

    /** The message for a lock's description. */
    public static io.holdfast.protocol.v1.LockInfo toProto(io.holdfast.LockInfo info) {
        io.holdfast.protocol.v1.LockInfo.Builder b = io.holdfast.protocol.v1.LockInfo.newBuilder()
                .setName(text(info.name(), "name"))
                .setSemaphore(info.semaphore())
                .setMaxPermits(info.maxPermits());
        for (HolderInfo h : info.holders()) {
            io.holdfast.protocol.v1.HolderInfo.Builder hb = io.holdfast.protocol.v1.HolderInfo.newBuilder()
                    .setSessionId(text(h.sessionId(), "sessionId"))
                    .setClientName(text(h.clientName(), "clientName"))
                    .setMode(ProtoEnums.toProto(h.mode()))
                    .setPermits(h.permits())
                    .setFencingToken(h.fencingToken())
                    .setHoldCount(h.holdCount())
                    .setHeldForMillis(millis(h.heldFor()));
            if (h.leaseLeft() != null) {
                hb.setLeaseLeftMillis(h.leaseLeft().toMillis());
            }
            b.addHolders(hb);
        }
        for (WaiterInfo w : info.waiters()) {
            b.addWaiters(io.holdfast.protocol.v1.WaiterInfo.newBuilder()
                    .setSessionId(text(w.sessionId(), "sessionId"))
                    .setClientName(text(w.clientName(), "clientName"))
                    .setMode(ProtoEnums.toProto(w.mode()))
                    .setPermits(w.permits())
                    .setWaitingForMillis(millis(w.waitingFor()))
                    .setTimeLeftMillis(millis(w.timeLeft())));
        }
        return b.build();
    }

    /**
     * The lock description a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed
     */
    public static io.holdfast.LockInfo fromProto(io.holdfast.protocol.v1.LockInfo m) {
        List<HolderInfo> holders = new ArrayList<>(m.getHoldersCount());
        for (io.holdfast.protocol.v1.HolderInfo h : m.getHoldersList()) {
            holders.add(new HolderInfo(
                    h.getSessionId(),
                    h.getClientName(),
                    ProtoEnums.fromProto(h.getMode(), "holder.mode"),
                    h.getPermits(),
                    h.getFencingToken(),
                    h.getHoldCount(),
                    Duration.ofMillis(h.getHeldForMillis()),
                    h.hasLeaseLeftMillis() ? Duration.ofMillis(h.getLeaseLeftMillis()) : null));
        }
        List<WaiterInfo> waiters = new ArrayList<>(m.getWaitersCount());
        for (io.holdfast.protocol.v1.WaiterInfo w : m.getWaitersList()) {
            waiters.add(new WaiterInfo(
                    w.getSessionId(),
                    w.getClientName(),
                    ProtoEnums.fromProto(w.getMode(), "waiter.mode"),
                    w.getPermits(),
                    Duration.ofMillis(w.getWaitingForMillis()),
                    Duration.ofMillis(w.getTimeLeftMillis())));
        }
        return new io.holdfast.LockInfo(m.getName(), m.getSemaphore(), m.getMaxPermits(), holders, waiters);
    }

    /** The message for a register read. */
    public static ReadRegisterResponse toProto(Optional<RegisterValue> value) {
        if (value.isEmpty()) {
            return ReadRegisterResponse.getDefaultInstance();
        }
        RegisterValue v = value.get();
        return ReadRegisterResponse.newBuilder()
                .setFound(true)
                .setVersion(v.version())
                .setValue(ByteString.copyFrom(v.value()))
                .build();
    }

    /** The register read a message stands for. */
    public static Optional<RegisterValue> fromProto(ReadRegisterResponse m) {
        return m.getFound()
                ? Optional.of(new RegisterValue(m.getVersion(), m.getValue().toByteArray()))
                : Optional.empty();
    }

    // ------------------------------------------------------------------------------------- helpers

    private static String text(String s, String field) {
        if (s == null) {
            throw new InvalidArgumentException(field + " must not be null");
        }
        return s;
    }

    private static long millis(Duration d) {
        return d == null ? 0 : d.toMillis();
    }

    private static String kindOf(Command c) {
        return c == null ? "a null command" : c.getClass().getSimpleName();
    }

    public static io.holdfast.protocol.v1.SessionsResponse toProto(io.holdfast.core.SessionPage page) {
        var b = io.holdfast.protocol.v1.SessionsResponse.newBuilder()
                .setNext(page.next() == null ? "" : page.next())
                .setLinearizable(page.linearizable());
        for (io.holdfast.core.SessionPage.Session s : page.sessions()) {
            var x = io.holdfast.protocol.v1.SessionInfo.newBuilder()
                    .setSessionId(s.id())
                    .setClientName(s.clientName())
                    .setTtlMillis(s.ttlMillis())
                    .setLockDelayMillis(s.lockDelayMillis())
                    .setOpenForMillis(s.openForMillis())
                    .setHolds(s.holds())
                    .setWaits(s.waits());
            if (s.identity() != null) {
                x.setIdentity(s.identity());
            }
            if (s.ttlLeftMillis() != null) {
                x.setTtlLeftMillis(s.ttlLeftMillis());
            }
            b.addSessions(x);
        }
        return b.build();
    }

    public static io.holdfast.core.SessionPage fromProto(io.holdfast.protocol.v1.SessionsResponse m) {
        List<io.holdfast.core.SessionPage.Session> sessions = new ArrayList<>(m.getSessionsCount());
        for (var x : m.getSessionsList()) {
            sessions.add(new io.holdfast.core.SessionPage.Session(
                    x.getSessionId(),
                    x.hasIdentity() ? x.getIdentity() : null,
                    x.getClientName(),
                    x.getTtlMillis(),
                    x.getLockDelayMillis(),
                    x.getOpenForMillis(),
                    x.getHolds(),
                    x.getWaits(),
                    x.hasTtlLeftMillis() ? x.getTtlLeftMillis() : null));
        }
        return new io.holdfast.core.SessionPage(
                sessions, m.getNext().isEmpty() ? null : m.getNext(), m.getLinearizable());
    }

    public static io.holdfast.protocol.v1.MembersResponse toProto(io.holdfast.core.ClusterInfo c) {
        var b = io.holdfast.protocol.v1.MembersResponse.newBuilder()
                .setAnsweredBy(c.answeredBy())
                .setRole(c.role())
                .setTerm(c.term())
                .setCommitIndex(c.commitIndex())
                .setAppliedIndex(c.appliedIndex())
                .setClusterVersion(c.clusterVersion());
        if (c.leader() != null) {
            b.setLeader(c.leader());
        }
        for (io.holdfast.core.ClusterInfo.Member m : c.members()) {
            var x = io.holdfast.protocol.v1.MemberInfo.newBuilder()
                    .setId(m.id())
                    .setRaftAddress(m.raftAddress() == null ? "" : m.raftAddress())
                    .setClientAddress(m.clientAddress() == null ? "" : m.clientAddress())
                    .setRole(m.role());
            if (m.lastContactMillis() != null) {
                x.setLastContactMillis(m.lastContactMillis());
            }
            if (m.version() != null) {
                x.setVersion(m.version());
            }
            b.addMembers(x);
        }
        return b.build();
    }

    public static io.holdfast.core.ClusterInfo fromProto(io.holdfast.protocol.v1.MembersResponse m) {
        List<io.holdfast.core.ClusterInfo.Member> members = new ArrayList<>(m.getMembersCount());
        for (var x : m.getMembersList()) {
            members.add(new io.holdfast.core.ClusterInfo.Member(
                    x.getId(),
                    x.getRaftAddress(),
                    x.getClientAddress(),
                    x.getRole(),
                    x.hasLastContactMillis() ? x.getLastContactMillis() : null,
                    x.hasVersion() ? x.getVersion() : null));
        }
        return new io.holdfast.core.ClusterInfo(
                m.getAnsweredBy(),
                m.getRole(),
                m.hasLeader() ? m.getLeader() : null,
                m.getTerm(),
                m.getCommitIndex(),
                m.getAppliedIndex(),
                Math.max(1, m.getClusterVersion()),
                members);
    }

    public static io.holdfast.protocol.v1.ChangeMembersRequest toProto(io.holdfast.core.MembershipChange change) {
        var b = io.holdfast.protocol.v1.ChangeMembersRequest.newBuilder();
        if (change instanceof io.holdfast.core.MembershipChange.Add a) {
            b.setAdd(io.holdfast.protocol.v1.AddMember.newBuilder()
                    .setId(a.id())
                    .setRaftAddress(a.raftAddress())
                    .setClientAddress(a.clientAddress())
                    .setLearner(a.learner()));
        } else if (change instanceof io.holdfast.core.MembershipChange.Remove r) {
            b.setRemove(r.id());
        } else if (change instanceof io.holdfast.core.MembershipChange.Promote p) {
            b.setPromote(p.id());
        } else if (change instanceof io.holdfast.core.MembershipChange.TransferLeader t) {
            var t2 = io.holdfast.protocol.v1.TransferLeader.newBuilder();
            if (t.id() != null) {
                t2.setId(t.id());
            }
            b.setTransferLeader(t2);
        }
        return b.build();
    }

    /** @throws InvalidArgumentException for a request that names no change */
    public static io.holdfast.core.MembershipChange fromProto(io.holdfast.protocol.v1.ChangeMembersRequest r) {
        return switch (r.getChangeCase()) {
            case ADD ->
                new io.holdfast.core.MembershipChange.Add(
                        r.getAdd().getId(),
                        r.getAdd().getRaftAddress(),
                        r.getAdd().getClientAddress(),
                        r.getAdd().getLearner());
            case REMOVE -> new io.holdfast.core.MembershipChange.Remove(r.getRemove());
            case PROMOTE -> new io.holdfast.core.MembershipChange.Promote(r.getPromote());
            case TRANSFER_LEADER ->
                new io.holdfast.core.MembershipChange.TransferLeader(
                        r.getTransferLeader().hasId() ? r.getTransferLeader().getId() : null);
            case CHANGE_NOT_SET -> throw new InvalidArgumentException("the request names no change of the members");
        };
    }
}
