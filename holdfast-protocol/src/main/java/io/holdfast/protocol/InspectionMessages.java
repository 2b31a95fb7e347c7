package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import io.holdfast.HolderInfo;
import io.holdfast.InvalidArgumentException;
import io.holdfast.WaiterInfo;
import io.holdfast.model.RegisterValue;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What operators read (locks, registers, session pages) to and from their messages. See {@link Convert}. */
final class InspectionMessages {
    private InspectionMessages() {}

    /** The message for a lock's description. */
    static io.holdfast.protocol.v1.LockInfo toProto(io.holdfast.LockInfo info) {
        io.holdfast.protocol.v1.LockInfo.Builder b = io.holdfast.protocol.v1.LockInfo.newBuilder()
                .setName(Fields.text(info.name(), "name"))
                .setSemaphore(info.semaphore())
                .setMaxPermits(info.maxPermits());
        for (HolderInfo h : info.holders()) {
            io.holdfast.protocol.v1.HolderInfo.Builder hb = io.holdfast.protocol.v1.HolderInfo.newBuilder()
                    .setSessionId(Fields.text(h.sessionId(), "sessionId"))
                    .setClientName(Fields.text(h.clientName(), "clientName"))
                    .setMode(ProtoEnums.toProto(h.mode()))
                    .setPermits(h.permits())
                    .setFencingToken(h.fencingToken())
                    .setHoldCount(h.holdCount())
                    .setHeldForMillis(Fields.millis(h.heldFor()));
            if (h.leaseLeft() != null) {
                hb.setLeaseLeftMillis(h.leaseLeft().toMillis());
            }
            b.addHolders(hb);
        }
        for (WaiterInfo w : info.waiters()) {
            b.addWaiters(io.holdfast.protocol.v1.WaiterInfo.newBuilder()
                    .setSessionId(Fields.text(w.sessionId(), "sessionId"))
                    .setClientName(Fields.text(w.clientName(), "clientName"))
                    .setMode(ProtoEnums.toProto(w.mode()))
                    .setPermits(w.permits())
                    .setWaitingForMillis(Fields.millis(w.waitingFor()))
                    .setTimeLeftMillis(Fields.millis(w.timeLeft())));
        }
        return b.build();
    }

    /**
     * The lock description a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed
     */
    static io.holdfast.LockInfo fromProto(io.holdfast.protocol.v1.LockInfo m) {
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
    static ReadRegisterResponse toProto(Optional<RegisterValue> value) {
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
    static Optional<RegisterValue> fromProto(ReadRegisterResponse m) {
        return m.getFound()
                ? Optional.of(new RegisterValue(m.getVersion(), m.getValue().toByteArray()))
                : Optional.empty();
    }

    static io.holdfast.protocol.v1.SessionsResponse toProto(io.holdfast.model.SessionPage page) {
        var b = io.holdfast.protocol.v1.SessionsResponse.newBuilder()
                .setNext(page.next() == null ? "" : page.next())
                .setLinearizable(page.linearizable());
        for (io.holdfast.model.SessionPage.Session s : page.sessions()) {
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

    static io.holdfast.model.SessionPage fromProto(io.holdfast.protocol.v1.SessionsResponse m) {
        List<io.holdfast.model.SessionPage.Session> sessions = new ArrayList<>(m.getSessionsCount());
        for (var x : m.getSessionsList()) {
            sessions.add(new io.holdfast.model.SessionPage.Session(
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
        return new io.holdfast.model.SessionPage(
                sessions, m.getNext().isEmpty() ? null : m.getNext(), m.getLinearizable());
    }
}
