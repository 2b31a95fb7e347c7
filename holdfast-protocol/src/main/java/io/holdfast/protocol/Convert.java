package io.holdfast.protocol;

import io.holdfast.model.ClusterInfo;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.MembershipChange;
import io.holdfast.model.RegisterValue;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionPage;
import io.holdfast.protocol.v1.ChangeMembersRequest;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.EventMessage;
import io.holdfast.protocol.v1.MembersResponse;
import io.holdfast.protocol.v1.ReadRegisterResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import io.holdfast.protocol.v1.SessionsResponse;
import java.util.Optional;

/**
 * Conversions between the model types ({@link Command}, {@link Reply}, {@link Event}, {@link
 * io.holdfast.LockInfo}) and their messages in {@code holdfast/v1/holdfast.proto}.
 *
 * <p>Reading is total: a message that does not stand for a model value (no kind set, an enum value
 * that is unspecified or unknown to this build, a changing command without its invocation) raises
 * {@link io.holdfast.InvalidArgumentException} naming what is wrong, never a {@code NullPointerException}.
 * Field values are not range-checked here: the lock table refuses out-of-range values with a
 * reply, as it does for every transport.
 *
 * <p>Commands carry no time: the proposer puts each in its {@link Command.Envelope} with the
 * cluster time. Only the commands a client may send have a message: {@link Command.Tick} and {@link
 * Command.ExpireSession} are the leader's own, and {@link Command.KeepAlive} has its own call.
 *
 * <p>This class is the one entry point (overloaded by type); each family of messages lives in a
 * class of its own: {@link CommandMessages}, {@link ReplyMessages}, {@link EventMessages}, {@link
 * InspectionMessages}, {@link ClusterMessages}, {@link WatchMessages}, and {@link KeyMessages} for
 * the key commands, their replies and pages of keys (protocol version 6). A new command changes
 * only {@code CommandMessages} (or {@code KeyMessages}) here.
 */
public final class Convert {
    private Convert() {}

    /**
     * The message for a command a client sends.
     *
     * @throws io.holdfast.InvalidArgumentException for a command no client may send, or one with a
     *     null field
     */
    public static CommandRequest toProto(Command command) {
        return CommandMessages.toProto(command);
    }

    /** The command of a message. */
    public static Command fromProto(CommandRequest m) {
        return CommandMessages.fromProto(m);
    }

    public static ReplyMessage toProto(Reply reply) {
        return ReplyMessages.toProto(reply);
    }

    public static Reply fromProto(ReplyMessage m) {
        return ReplyMessages.fromProto(m);
    }

    public static EventMessage toProto(Event event) {
        return EventMessages.toProto(event);
    }

    /** The first message of a session's event stream: the subscription is in place. */
    public static EventMessage started(String sessionId) {
        return EventMessages.started(sessionId);
    }

    /** Events of the session may have been lost: the client asks for its outcomes. */
    public static EventMessage gap(String sessionId) {
        return EventMessages.gap(sessionId);
    }

    public static Event fromProto(EventMessage m) {
        return EventMessages.fromProto(m);
    }

    public static io.holdfast.protocol.v1.WatchRequest toProto(
            io.holdfast.WatchTarget target, io.holdfast.model.ChangePosition from, long waitMillis) {
        return WatchMessages.request(target, from, waitMillis);
    }

    public static io.holdfast.WatchTarget target(io.holdfast.protocol.v1.WatchRequest r) {
        return WatchMessages.target(r);
    }

    /** The request's position; null to start. */
    public static io.holdfast.model.ChangePosition from(io.holdfast.protocol.v1.WatchRequest r) {
        return WatchMessages.from(r);
    }

    /**
     * The page for a reader older than protocol version 6: a deleted key is sent as a write of
     * version 0 without a value. Answer a request with {@link #toProto(io.holdfast.model.ChangePage,
     * io.holdfast.protocol.v1.WatchRequest)}.
     */
    public static io.holdfast.protocol.v1.WatchResponse toProto(io.holdfast.model.ChangePage page) {
        return WatchMessages.toProto(page, false);
    }

    /** The page as the request's reader reads it: with deleted keys when it asked for {@code deletions}. */
    public static io.holdfast.protocol.v1.WatchResponse toProto(
            io.holdfast.model.ChangePage page, io.holdfast.protocol.v1.WatchRequest request) {
        return WatchMessages.toProto(page, request.getDeletions());
    }

    public static io.holdfast.model.ChangePage fromProto(io.holdfast.protocol.v1.WatchResponse m) {
        return WatchMessages.fromProto(m);
    }

    public static io.holdfast.protocol.v1.LockInfo toProto(io.holdfast.LockInfo info) {
        return InspectionMessages.toProto(info);
    }

    public static io.holdfast.LockInfo fromProto(io.holdfast.protocol.v1.LockInfo m) {
        return InspectionMessages.fromProto(m);
    }

    public static ReadRegisterResponse toProto(Optional<RegisterValue> value) {
        return InspectionMessages.toProto(value);
    }

    public static Optional<RegisterValue> fromProto(ReadRegisterResponse m) {
        return InspectionMessages.fromProto(m);
    }

    /** A page of keys listed by prefix (protocol version 6). */
    public static io.holdfast.protocol.v1.KeysResponse toProto(io.holdfast.model.KeyPage page) {
        return KeyMessages.toProto(page);
    }

    public static io.holdfast.model.KeyPage fromProto(io.holdfast.protocol.v1.KeysResponse m) {
        return KeyMessages.fromProto(m);
    }

    /**
     * The request for a page of keys that start with {@code prefix}, after the key {@code after}
     * (null or "" for the first page), at most {@code limit}.
     */
    public static io.holdfast.protocol.v1.KeysRequest keysRequest(String prefix, String after, int limit) {
        return keysRequest(prefix, after, limit, false);
    }

    /** {@link #keysRequest(String, String, int)}, keys only (values not sent) when {@code keysOnly}. */
    public static io.holdfast.protocol.v1.KeysRequest keysRequest(
            String prefix, String after, int limit, boolean keysOnly) {
        return io.holdfast.protocol.v1.KeysRequest.newBuilder()
                .setPrefix(Fields.text(prefix, "prefix"))
                .setAfter(after == null ? "" : after)
                .setLimit(limit)
                .setKeysOnly(keysOnly)
                .build();
    }

    public static SessionsResponse toProto(SessionPage page) {
        return InspectionMessages.toProto(page);
    }

    public static SessionPage fromProto(SessionsResponse m) {
        return InspectionMessages.fromProto(m);
    }

    public static MembersResponse toProto(ClusterInfo c) {
        return ClusterMessages.toProto(c);
    }

    public static ClusterInfo fromProto(MembersResponse m) {
        return ClusterMessages.fromProto(m);
    }

    public static ChangeMembersRequest toProto(MembershipChange change) {
        return ClusterMessages.toProto(change);
    }

    public static MembershipChange fromProto(ChangeMembersRequest r) {
        return ClusterMessages.fromProto(r);
    }
}
