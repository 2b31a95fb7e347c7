package io.holdfast.protocol;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Reply;
import io.holdfast.protocol.v1.ReplyMessage;

/** Replies to and from their {@code ReplyMessage}. See {@link Convert}. */
final class ReplyMessages {
    private ReplyMessages() {}

    /** The message for a reply. */
    static ReplyMessage toProto(Reply reply) {
        if (reply == null) {
            throw new InvalidArgumentException("a null reply has no message");
        }
        ReplyMessage.Builder b = ReplyMessage.newBuilder();
        return reply.accept(new Reply.Visitor<ReplyMessage.Builder>() {
                    @Override
                    public ReplyMessage.Builder ok(Reply.Ok x) {
                        return b.setOk(ReplyMessage.Ok.newBuilder().setValue(x.value()));
                    }

                    @Override
                    public ReplyMessage.Builder granted(Reply.Granted x) {
                        return b.setGranted(ReplyMessage.Granted.newBuilder().setToken(x.token()));
                    }

                    @Override
                    public ReplyMessage.Builder grantedAll(Reply.GrantedAll x) {
                        return b.setGrantedAll(
                                ReplyMessage.GrantedAll.newBuilder().addAllTokens(x.tokens()));
                    }

                    @Override
                    public ReplyMessage.Builder queued(Reply.Queued x) {
                        return b.setQueued(ReplyMessage.Queued.getDefaultInstance());
                    }

                    @Override
                    public ReplyMessage.Builder busy(Reply.Busy x) {
                        return b.setBusy(ReplyMessage.Busy.getDefaultInstance());
                    }

                    @Override
                    public ReplyMessage.Builder written(Reply.Written x) {
                        return b.setWritten(ReplyMessage.Written.newBuilder().setVersion(x.version()));
                    }

                    @Override
                    public ReplyMessage.Builder counted(Reply.Counted x) {
                        return b.setCounted(KeyMessages.toProto(x));
                    }

                    @Override
                    public ReplyMessage.Builder transacted(Reply.Transacted x) {
                        return b.setTransacted(KeyMessages.toProto(x));
                    }

                    @Override
                    public ReplyMessage.Builder failed(Reply.Failed x) {
                        return b.setFailed(ReplyMessage.Failed.newBuilder()
                                .setCode(ProtoEnums.toProto(x.code()))
                                .setMessage(x.message() == null ? "" : x.message())
                                .addAllCycle(x.cycle())
                                .setCurrentVersion(x.currentVersion()));
                    }
                })
                .build();
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
            case GRANTED -> new Reply.Granted(m.getGranted().getToken());
            case GRANTED_ALL -> new Reply.GrantedAll(m.getGrantedAll().getTokensList());
            case QUEUED -> Reply.Queued.INSTANCE;
            case BUSY -> Reply.Busy.INSTANCE;
            case WRITTEN -> new Reply.Written(m.getWritten().getVersion());
            case COUNTED -> KeyMessages.fromProto(m.getCounted());
            case TRANSACTED -> KeyMessages.fromProto(m.getTransacted());
            case FAILED -> {
                ReplyMessage.Failed x = m.getFailed();
                yield new Reply.Failed(
                        ProtoEnums.fromProto(x.getCode()), x.getMessage(), x.getCycleList(), x.getCurrentVersion());
            }
            case KIND_NOT_SET ->
                throw new InvalidArgumentException("the reply message has no reply" + Fields.unknown(m));
        };
    }
}
