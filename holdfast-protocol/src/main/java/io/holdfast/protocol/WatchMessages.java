package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import io.holdfast.InvalidArgumentException;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.protocol.v1.WatchCause;
import io.holdfast.protocol.v1.WatchEventMessage;
import io.holdfast.protocol.v1.WatchEventType;
import io.holdfast.protocol.v1.WatchKind;
import io.holdfast.protocol.v1.WatchRequest;
import io.holdfast.protocol.v1.WatchResponse;
import java.util.ArrayList;
import java.util.List;

/** Watches on the wire: {@link WatchTarget} and {@link ChangePage}, both ways. */
final class WatchMessages {
    private WatchMessages() {}

    static WatchRequest request(WatchTarget target, ChangePosition from, long waitMillis) {
        return WatchRequest.newBuilder()
                .setKind(
                        switch (target.kind()) {
                            case LOCK -> WatchKind.WATCH_LOCK;
                            case PREFIX -> WatchKind.WATCH_PREFIX;
                            case REGISTER -> WatchKind.WATCH_REGISTER;
                            case KEYS -> WatchKind.WATCH_KEYS;
                        })
                .setName(target.name())
                .setAfter(from == null ? "" : from.toString())
                .setWaitMillis(waitMillis)
                .setDeletions(true)
                .build();
    }

    static WatchTarget target(WatchRequest r) {
        return switch (r.getKind()) {
            case WATCH_LOCK -> WatchTarget.lock(r.getName());
            case WATCH_PREFIX -> WatchTarget.prefix(r.getName());
            case WATCH_REGISTER -> WatchTarget.register(r.getName());
            case WATCH_KEYS -> WatchTarget.keys(r.getName());
            case WATCH_KIND_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException(
                        "watch.kind is " + r.getKind() + ", not one of LOCK, PREFIX, REGISTER, KEYS");
        };
    }

    /** The request's position; null for "" (start). */
    static ChangePosition from(WatchRequest r) {
        if (r.getAfter().isEmpty()) {
            return null;
        }
        ChangePosition p = ChangePosition.parse(r.getAfter());
        if (p == null) {
            throw new InvalidArgumentException("watch.after is '" + r.getAfter() + "', not a position (index.ordinal)");
        }
        return p;
    }

    /**
     * The page for a reader that knows {@code CHANGE_REGISTER_DELETED} when {@code deletions} (its
     * request's {@code deletions}); else a deleted key in the form an older reader understands: a
     * write of version 0 without a value, how it reads an absent register.
     */
    static WatchResponse toProto(ChangePage page, boolean deletions) {
        WatchResponse.Builder b =
                WatchResponse.newBuilder().setNext(page.next().toString()).setGap(page.gap());
        for (WatchEvent e : page.events()) {
            b.addEvents(toProto(e, deletions));
        }
        return b.build();
    }

    static ChangePage fromProto(WatchResponse m) {
        ChangePosition next = ChangePosition.parse(m.getNext());
        if (next == null) {
            throw new InvalidArgumentException("watch.next is '" + m.getNext() + "', not a position");
        }
        List<WatchEvent> events = new ArrayList<>(m.getEventsCount());
        for (WatchEventMessage e : m.getEventsList()) {
            events.add(fromProto(e));
        }
        return new ChangePage(events, next, m.getGap());
    }

    static WatchEventMessage toProto(WatchEvent e, boolean deletions) {
        boolean legacyDeletion = e.type() == WatchEvent.Type.REGISTER_DELETED && !deletions;
        WatchEventMessage.Builder b = WatchEventMessage.newBuilder()
                .setType(
                        switch (e.type()) {
                            case ACQUIRED -> WatchEventType.CHANGE_ACQUIRED;
                            case RELEASED -> WatchEventType.CHANGE_RELEASED;
                            case QUEUED -> WatchEventType.CHANGE_QUEUED;
                            case WAIT_ENDED -> WatchEventType.CHANGE_WAIT_ENDED;
                            case REGISTER_SET -> WatchEventType.CHANGE_REGISTER_SET;
                            case REGISTER_DELETED ->
                                deletions ? WatchEventType.CHANGE_REGISTER_DELETED : WatchEventType.CHANGE_REGISTER_SET;
                            case STATE ->
                                throw new InvalidArgumentException("a STATE is never sent: the client reads the state");
                        })
                .setName(e.name())
                .setSessionId(e.sessionId() == null ? "" : e.sessionId())
                .setToken(e.fencingToken())
                .setVersion(legacyDeletion ? 0 : e.version())
                .setPosition(e.position());
        if (e.mode() != null) {
            b.setMode(ProtoEnums.toProto(e.mode()));
        }
        if (e.cause() != null) {
            b.setCause(toProto(e.cause()));
        }
        byte[] value = e.value();
        if (value != null) {
            b.setValue(ByteString.copyFrom(value));
        }
        return b.build();
    }

    static WatchEvent fromProto(WatchEventMessage m) {
        String session = m.getSessionId().isEmpty() ? null : m.getSessionId();
        WatchEvent.Cause cause = fromProto(m.getCause());
        var mode = m.getMode() == io.holdfast.protocol.v1.LockMode.LOCK_MODE_UNSPECIFIED
                ? null
                : ProtoEnums.fromProto(m.getMode(), "watch_event.mode");
        WatchEvent e = switch (m.getType()) {
            case CHANGE_ACQUIRED -> WatchEvent.acquired(m.getName(), session, m.getToken(), mode);
            case CHANGE_RELEASED -> WatchEvent.released(m.getName(), session, m.getToken(), mode, cause);
            case CHANGE_QUEUED -> WatchEvent.queued(m.getName(), session, mode);
            case CHANGE_WAIT_ENDED -> WatchEvent.waitEnded(m.getName(), session, mode, cause);
            case CHANGE_REGISTER_SET ->
                WatchEvent.registerSet(
                        m.getName(),
                        session,
                        m.getVersion(),
                        m.hasValue() ? m.getValue().toByteArray() : null);
            case CHANGE_REGISTER_DELETED -> WatchEvent.registerDeleted(m.getName(), session, m.getVersion(), cause);
            case WATCH_EVENT_TYPE_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException(
                        "watch_event.type is " + m.getTypeValue() + ", not a change known to this build");
        };
        return e.at(m.getPosition());
    }

    private static WatchCause toProto(WatchEvent.Cause cause) {
        return switch (cause) {
            case RELEASED -> WatchCause.CAUSE_RELEASED;
            case LEASE_TIMEOUT -> WatchCause.CAUSE_LEASE_TIMEOUT;
            case SESSION_EXPIRED -> WatchCause.CAUSE_SESSION_EXPIRED;
            case SESSION_CLOSED -> WatchCause.CAUSE_SESSION_CLOSED;
            case REVOKED -> WatchCause.CAUSE_REVOKED;
            case TIMED_OUT -> WatchCause.CAUSE_TIMED_OUT;
            case CANCELLED -> WatchCause.CAUSE_CANCELLED;
            case UNKNOWN -> WatchCause.WATCH_CAUSE_UNSPECIFIED;
        };
    }

    private static WatchEvent.Cause fromProto(WatchCause cause) {
        return switch (cause) {
            case CAUSE_RELEASED -> WatchEvent.Cause.RELEASED;
            case CAUSE_LEASE_TIMEOUT -> WatchEvent.Cause.LEASE_TIMEOUT;
            case CAUSE_SESSION_EXPIRED -> WatchEvent.Cause.SESSION_EXPIRED;
            case CAUSE_SESSION_CLOSED -> WatchEvent.Cause.SESSION_CLOSED;
            case CAUSE_REVOKED -> WatchEvent.Cause.REVOKED;
            case CAUSE_TIMED_OUT -> WatchEvent.Cause.TIMED_OUT;
            case CAUSE_CANCELLED -> WatchEvent.Cause.CANCELLED;
            case WATCH_CAUSE_UNSPECIFIED, UNRECOGNIZED -> null;
        };
    }
}
