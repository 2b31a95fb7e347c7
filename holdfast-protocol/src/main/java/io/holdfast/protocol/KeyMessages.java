package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyPage;
import io.holdfast.model.Reply;
import io.holdfast.protocol.v1.Compare;
import io.holdfast.protocol.v1.CompareOrder;
import io.holdfast.protocol.v1.CounterAdd;
import io.holdfast.protocol.v1.KeyDelete;
import io.holdfast.protocol.v1.KeyDeletePrefix;
import io.holdfast.protocol.v1.KeyEntry;
import io.holdfast.protocol.v1.KeysResponse;
import io.holdfast.protocol.v1.ReplyMessage;
import io.holdfast.protocol.v1.Transaction;
import io.holdfast.protocol.v1.TxnOp;
import java.util.ArrayList;
import java.util.List;

/**
 * The key commands of protocol versions 6 and 9 ({@link KeyCommand}), their replies ({@link
 * Reply.Counted}, {@link Reply.Transacted}) and a page of keys ({@link KeyPage}) to and from their
 * messages. See {@link Convert} for the rules every conversion keeps: a compare or an op without its
 * kind, or with an order this build does not know, is refused with {@link InvalidArgumentException}
 * naming where it is.
 */
final class KeyMessages {
    private KeyMessages() {}

    /** Sets the message of a key command on the request being built. */
    static void toProto(KeyCommand command, io.holdfast.protocol.v1.CommandRequest.Builder b) {
        command.accept(new KeyCommand.Visitor<Void>() {
            @Override
            public Void keyDelete(io.holdfast.model.KeyDelete x) {
                b.setKeyDelete(KeyDelete.newBuilder()
                        .setInvocation(CommandMessages.toProto(x.invocation()))
                        .setKey(Fields.text(x.key(), "key"))
                        .setExpectedVersion(x.expectedVersion()));
                return null;
            }

            @Override
            public Void counterAdd(io.holdfast.model.CounterAdd x) {
                b.setCounterAdd(CounterAdd.newBuilder()
                        .setInvocation(CommandMessages.toProto(x.invocation()))
                        .setKey(Fields.text(x.key(), "key"))
                        .setDelta(x.delta()));
                return null;
            }

            @Override
            public Void transaction(io.holdfast.model.Transaction x) {
                Transaction.Builder t = Transaction.newBuilder().setInvocation(CommandMessages.toProto(x.invocation()));
                for (io.holdfast.model.Transaction.Compare c : Fields.list(x.compares(), "compares")) {
                    t.addCompares(toProto(c));
                }
                for (io.holdfast.model.Transaction.Op op : Fields.list(x.then(), "then")) {
                    t.addThen(toProto(op));
                }
                for (io.holdfast.model.Transaction.Op op : Fields.list(x.otherwise(), "otherwise")) {
                    t.addOtherwise(toProto(op));
                }
                b.setTransaction(t);
                return null;
            }

            @Override
            public Void keyDeletePrefix(io.holdfast.model.KeyDeletePrefix x) {
                b.setKeyDeletePrefix(KeyDeletePrefix.newBuilder()
                        .setInvocation(CommandMessages.toProto(x.invocation()))
                        .setPrefix(Fields.text(x.prefix(), "prefix"))
                        .setLimit(x.limit()));
                return null;
            }
        });
    }

    static io.holdfast.model.KeyDeletePrefix fromProto(KeyDeletePrefix x) {
        return new io.holdfast.model.KeyDeletePrefix(
                CommandMessages.invocation(x.hasInvocation(), x.getInvocation(), "key_delete_prefix"),
                x.getPrefix(),
                x.getLimit());
    }

    static io.holdfast.model.KeyDelete fromProto(KeyDelete x) {
        return new io.holdfast.model.KeyDelete(
                CommandMessages.invocation(x.hasInvocation(), x.getInvocation(), "key_delete"),
                x.getKey(),
                x.getExpectedVersion());
    }

    static io.holdfast.model.CounterAdd fromProto(CounterAdd x) {
        return new io.holdfast.model.CounterAdd(
                CommandMessages.invocation(x.hasInvocation(), x.getInvocation(), "counter_add"),
                x.getKey(),
                x.getDelta());
    }

    static io.holdfast.model.Transaction fromProto(Transaction x) {
        List<io.holdfast.model.Transaction.Compare> compares = new ArrayList<>(x.getComparesCount());
        for (int i = 0; i < x.getComparesCount(); i++) {
            compares.add(fromProto(x.getCompares(i), "transaction.compares[" + i + "]"));
        }
        return new io.holdfast.model.Transaction(
                CommandMessages.invocation(x.hasInvocation(), x.getInvocation(), "transaction"),
                compares,
                ops(x.getThenList(), "transaction.then"),
                ops(x.getOtherwiseList(), "transaction.otherwise"));
    }

    private static Compare toProto(io.holdfast.model.Transaction.Compare c) {
        Compare.Builder b = Compare.newBuilder();
        if (c instanceof io.holdfast.model.Transaction.Compare.Version v) {
            b.setVersion(Compare.Version.newBuilder()
                    .setKey(Fields.text(v.key(), "compare.key"))
                    .setOrder(toProto(v.order()))
                    .setVersion(v.version()));
        } else if (c instanceof io.holdfast.model.Transaction.Compare.Value v) {
            b.setValue(Compare.Value.newBuilder()
                    .setKey(Fields.text(v.key(), "compare.key"))
                    .setValue(Fields.bytes(v.value(), "compare.value")));
        } else if (c instanceof io.holdfast.model.Transaction.Compare.Absent a) {
            b.setAbsent(Compare.Absent.newBuilder().setKey(Fields.text(a.key(), "compare.key")));
        } else if (c instanceof io.holdfast.model.Transaction.Compare.Fence f) {
            b.setFence(Compare.Fence.newBuilder()
                    .setLock(Fields.text(f.lock(), "compare.lock"))
                    .setToken(f.token()));
        } else if (c instanceof io.holdfast.model.Transaction.Compare.Holder h) {
            b.setHolder(Compare.Holder.newBuilder()
                    .setLock(Fields.text(h.lock(), "compare.lock"))
                    .setSessionId(Fields.text(h.sessionId(), "compare.session_id")));
        } else if (c instanceof io.holdfast.model.Transaction.Compare.SessionAlive s) {
            b.setSessionAlive(
                    Compare.SessionAlive.newBuilder().setSessionId(Fields.text(s.sessionId(), "compare.session_id")));
        } else {
            throw new InvalidArgumentException("a compare must not be null");
        }
        return b.build();
    }

    private static io.holdfast.model.Transaction.Compare fromProto(Compare m, String where) {
        return switch (m.getKindCase()) {
            case VERSION ->
                new io.holdfast.model.Transaction.Compare.Version(
                        m.getVersion().getKey(),
                        fromProto(m.getVersion().getOrder(), where + ".version.order"),
                        m.getVersion().getVersion());
            case VALUE ->
                new io.holdfast.model.Transaction.Compare.Value(
                        m.getValue().getKey(), m.getValue().getValue().toByteArray());
            case ABSENT ->
                new io.holdfast.model.Transaction.Compare.Absent(m.getAbsent().getKey());
            case FENCE ->
                new io.holdfast.model.Transaction.Compare.Fence(
                        m.getFence().getLock(), m.getFence().getToken());
            case HOLDER ->
                new io.holdfast.model.Transaction.Compare.Holder(
                        m.getHolder().getLock(), m.getHolder().getSessionId());
            case SESSION_ALIVE ->
                new io.holdfast.model.Transaction.Compare.SessionAlive(
                        m.getSessionAlive().getSessionId());
            case KIND_NOT_SET -> throw new InvalidArgumentException(where + " has no kind" + Fields.unknown(m));
        };
    }

    private static TxnOp toProto(io.holdfast.model.Transaction.Op op) {
        TxnOp.Builder b = TxnOp.newBuilder();
        if (op instanceof io.holdfast.model.Transaction.Op.Put p) {
            b.setPut(TxnOp.Put.newBuilder()
                    .setKey(Fields.text(p.key(), "op.key"))
                    .setExpectedVersion(p.expectedVersion())
                    .setValue(Fields.bytes(p.value(), "op.value"))
                    .setAttach(p.attach())
                    .setDetach(p.lifetime() == io.holdfast.PutOptions.Lifetime.DETACH)
                    .setTtlMillis(p.ttlMillis())
                    .setLease(p.lease() == null ? "" : p.lease()));
        } else if (op instanceof io.holdfast.model.Transaction.Op.Delete d) {
            b.setDelete(TxnOp.Delete.newBuilder()
                    .setKey(Fields.text(d.key(), "op.key"))
                    .setExpectedVersion(d.expectedVersion()));
        } else if (op instanceof io.holdfast.model.Transaction.Op.Add a) {
            b.setAdd(TxnOp.Add.newBuilder()
                    .setKey(Fields.text(a.key(), "op.key"))
                    .setDelta(a.delta()));
        } else if (op instanceof io.holdfast.model.Transaction.Op.Get g) {
            b.setGet(TxnOp.Get.newBuilder().setKey(Fields.text(g.key(), "op.key")));
        } else {
            throw new InvalidArgumentException("an op must not be null");
        }
        return b.build();
    }

    /**
     * A put's lifetime from its wire fields: attached, detached (said, or a time to live without
     * attach), else kept: what an older client's put without attach meant to detach, and now keeps.
     */
    static io.holdfast.PutOptions.Lifetime lifetime(boolean attach, boolean detach, long ttlMillis) {
        if (attach) {
            return io.holdfast.PutOptions.Lifetime.ATTACH;
        }
        return detach || ttlMillis != 0 ? io.holdfast.PutOptions.Lifetime.DETACH : io.holdfast.PutOptions.Lifetime.KEEP;
    }

    private static List<io.holdfast.model.Transaction.Op> ops(List<TxnOp> messages, String where) {
        List<io.holdfast.model.Transaction.Op> ops = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            TxnOp m = messages.get(i);
            ops.add(
                    switch (m.getKindCase()) {
                        case PUT -> {
                            TxnOp.Put p = m.getPut();
                            if (p.getAttach() && p.getDetach()) {
                                throw new InvalidArgumentException(
                                        where + " op " + (i + 1) + ": a put sets both attach and detach");
                            }
                            String lease = p.getLease().isEmpty() ? null : p.getLease();
                            if (lease != null && (p.getDetach() || p.getTtlMillis() != 0)) {
                                throw new InvalidArgumentException(where + " op " + (i + 1)
                                        + ": a put on a lease takes no detach and no time to live");
                            }
                            yield new io.holdfast.model.Transaction.Op.Put(
                                    p.getKey(),
                                    p.getExpectedVersion(),
                                    p.getValue().toByteArray(),
                                    lease != null
                                            ? io.holdfast.PutOptions.Lifetime.ATTACH
                                            : lifetime(p.getAttach(), p.getDetach(), p.getTtlMillis()),
                                    p.getTtlMillis(),
                                    lease);
                        }
                        case DELETE ->
                            new io.holdfast.model.Transaction.Op.Delete(
                                    m.getDelete().getKey(), m.getDelete().getExpectedVersion());
                        case ADD ->
                            new io.holdfast.model.Transaction.Op.Add(
                                    m.getAdd().getKey(), m.getAdd().getDelta());
                        case GET ->
                            new io.holdfast.model.Transaction.Op.Get(m.getGet().getKey());
                        case KIND_NOT_SET ->
                            throw new InvalidArgumentException(where + "[" + i + "] has no kind" + Fields.unknown(m));
                    });
        }
        return ops;
    }

    private static CompareOrder toProto(io.holdfast.model.Transaction.Order order) {
        if (order == null) {
            throw new InvalidArgumentException("a compare's order must not be null");
        }
        return switch (order) {
            case EQUAL -> CompareOrder.ORDER_EQUAL;
            case NOT_EQUAL -> CompareOrder.ORDER_NOT_EQUAL;
            case LESS -> CompareOrder.ORDER_LESS;
            case GREATER -> CompareOrder.ORDER_GREATER;
        };
    }

    private static io.holdfast.model.Transaction.Order fromProto(CompareOrder order, String field) {
        return switch (order) {
            case ORDER_EQUAL -> io.holdfast.model.Transaction.Order.EQUAL;
            case ORDER_NOT_EQUAL -> io.holdfast.model.Transaction.Order.NOT_EQUAL;
            case ORDER_LESS -> io.holdfast.model.Transaction.Order.LESS;
            case ORDER_GREATER -> io.holdfast.model.Transaction.Order.GREATER;
            case COMPARE_ORDER_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException(
                        field + " is " + order + ", not one of EQUAL, NOT_EQUAL, LESS, GREATER");
        };
    }

    static ReplyMessage.Counted toProto(Reply.Counted r) {
        return ReplyMessage.Counted.newBuilder()
                .setValue(r.value())
                .setVersion(r.version())
                .build();
    }

    static ReplyMessage.Transacted toProto(Reply.Transacted r) {
        ReplyMessage.Transacted.Builder b = ReplyMessage.Transacted.newBuilder().setSucceeded(r.succeeded());
        for (Reply.OpResult result : r.results()) {
            ReplyMessage.OpResult.Builder o = ReplyMessage.OpResult.newBuilder()
                    .setVersion(result.version())
                    .setCounter(result.counter());
            byte[] value = result.value();
            if (value != null) {
                o.setValue(ByteString.copyFrom(value));
            }
            b.addResults(o);
        }
        return b.build();
    }

    static Reply.Counted fromProto(ReplyMessage.Counted m) {
        return new Reply.Counted(m.getValue(), m.getVersion());
    }

    static Reply.Transacted fromProto(ReplyMessage.Transacted m) {
        List<Reply.OpResult> results = new ArrayList<>(m.getResultsCount());
        for (ReplyMessage.OpResult o : m.getResultsList()) {
            results.add(new Reply.OpResult(
                    o.getVersion(), o.hasValue() ? o.getValue().toByteArray() : null, o.getCounter()));
        }
        return new Reply.Transacted(m.getSucceeded(), results);
    }

    static KeysResponse toProto(KeyPage page) {
        KeysResponse.Builder b = KeysResponse.newBuilder()
                .setMore(page.more())
                .setPosition(page.position().toString());
        for (KeyPage.Entry e : page.keys()) {
            KeyEntry.Builder k = KeyEntry.newBuilder()
                    .setKey(e.key())
                    .setVersion(e.version())
                    .setValue(ByteString.copyFrom(e.value()))
                    .setExpiresAt(e.expiresAt());
            if (e.owner() != null) {
                k.setOwner(e.owner());
            }
            b.addKeys(k);
        }
        return b.build();
    }

    static KeyPage fromProto(KeysResponse m) {
        ChangePosition position = ChangePosition.parse(m.getPosition());
        if (position == null) {
            throw new InvalidArgumentException("keys.position is '" + m.getPosition() + "', not a position");
        }
        List<KeyPage.Entry> keys = new ArrayList<>(m.getKeysCount());
        for (KeyEntry k : m.getKeysList()) {
            keys.add(new KeyPage.Entry(
                    k.getKey(),
                    k.getVersion(),
                    k.getValue().toByteArray(),
                    k.hasOwner() ? k.getOwner() : null,
                    k.getExpiresAt()));
        }
        return new KeyPage(keys, m.getMore(), position);
    }
}
