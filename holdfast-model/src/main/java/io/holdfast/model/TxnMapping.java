package io.holdfast.model;

import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.util.ArrayList;
import java.util.List;

/**
 * The one mapping between the API's transaction ({@link Txn}, answered by a {@link TxnResult}) and
 * the model's ({@link Transaction} with its {@link Transaction.Compare}s and {@link Transaction.Op}s,
 * answered by a {@link Reply.Transacted}): every compare kind, op kind and order of one is a kind
 * of the other, field for field. Whatever turns one into the other (the Java client's keys, {@code
 * mem:} among them) calls this class, so that a kind added to one vocabulary is added here once.
 *
 * <p>Why two vocabularies: the API's records check their fields when they are made, so an
 * application's mistake is refused at once with {@link io.holdfast.InvalidArgumentException}. The
 * model's check nothing: a command read from the wire or from the log is made whatever its fields
 * hold, and the table refuses a bad one with a reply, never with an exception. The two differ in
 * one shape only: the API's put carries its {@link PutOptions}, the model's put their fields
 * (the expected version, the lifetime, and the time to live in milliseconds, as the log and the wire do).
 *
 * <p>Only the API-to-model way is here (commands out, results back): nothing turns a model command
 * into an API transaction. {@code TxnMappingTest} pins the mapping both ways, kind for kind, so a
 * kind added to either side without its counterpart fails it.
 */
public final class TxnMapping {
    private TxnMapping() {}

    /** The command that runs {@code txn} under {@code invocation}. */
    public static Transaction command(Command.Invocation invocation, Txn txn) {
        List<Transaction.Compare> compares = new ArrayList<>(txn.compares().size());
        for (Txn.Compare c : txn.compares()) {
            compares.add(compare(c));
        }
        return new Transaction(invocation, compares, ops(txn.then()), ops(txn.otherwise()));
    }

    /** The model's compare of this kind, with the same fields. */
    public static Transaction.Compare compare(Txn.Compare c) {
        if (c instanceof Txn.Compare.Version v) {
            return new Transaction.Compare.Version(v.key(), order(v.order()), v.version());
        } else if (c instanceof Txn.Compare.Value v) {
            return new Transaction.Compare.Value(v.key(), v.value());
        } else if (c instanceof Txn.Compare.Absent a) {
            return new Transaction.Compare.Absent(a.key());
        } else if (c instanceof Txn.Compare.Fence f) {
            return new Transaction.Compare.Fence(f.lock(), f.token());
        } else if (c instanceof Txn.Compare.Holder h) {
            return new Transaction.Compare.Holder(h.lock(), h.sessionId());
        } else if (c instanceof Txn.Compare.SessionAlive s) {
            return new Transaction.Compare.SessionAlive(s.sessionId());
        }
        throw new IllegalArgumentException("a compare of a kind the model does not know: " + c);
    }

    /** The model's order of the same name. */
    public static Transaction.Order order(Txn.Order order) {
        return Transaction.Order.valueOf(order.name());
    }

    /** The model's op of this kind: a put's options become its fields, the time to live in milliseconds. */
    public static Transaction.Op op(Txn.Op op) {
        if (op instanceof Txn.Op.Put p) {
            PutOptions o = p.options();
            return new Transaction.Op.Put(
                    p.key(),
                    o.expectedVersion(),
                    p.value(),
                    o.lifetime(),
                    o.ttl().toMillis(),
                    o.lease());
        } else if (op instanceof Txn.Op.Delete d) {
            return new Transaction.Op.Delete(d.key(), d.expectedVersion());
        } else if (op instanceof Txn.Op.Add a) {
            return new Transaction.Op.Add(a.key(), a.delta());
        } else if (op instanceof Txn.Op.Get g) {
            return new Transaction.Op.Get(g.key());
        }
        throw new IllegalArgumentException("an op of a kind the model does not know: " + op);
    }

    /** The ops of a branch, in order. */
    public static List<Transaction.Op> ops(List<Txn.Op> ops) {
        List<Transaction.Op> out = new ArrayList<>(ops.size());
        for (Txn.Op op : ops) {
            out.add(op(op));
        }
        return out;
    }

    /** What the transaction did, as the API tells it. */
    public static TxnResult result(Reply.Transacted t) {
        List<TxnResult.OpResult> results = new ArrayList<>(t.results().size());
        for (Reply.OpResult r : t.results()) {
            results.add(result(r));
        }
        return new TxnResult(t.succeeded(), results);
    }

    /** One op's result, as the API tells it. */
    public static TxnResult.OpResult result(Reply.OpResult r) {
        return new TxnResult.OpResult(r.version(), r.value(), r.counter());
    }
}
