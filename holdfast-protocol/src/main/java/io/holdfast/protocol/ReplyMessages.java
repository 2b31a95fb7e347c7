package io.holdfast.protocol;

import io.holdfast.InvalidArgumentException;
import io.holdfast.core.Reply;
import io.holdfast.protocol.v1.ReplyMessage;

/** Replies to and from their {@code ReplyMessage}. See {@link Convert}. */
final class ReplyMessages {
    private ReplyMessages() {}

    /** The message for a reply. */
    static ReplyMessage toProto(Reply reply) {
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
    static Reply fromProto(ReplyMessage m) {
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
}
