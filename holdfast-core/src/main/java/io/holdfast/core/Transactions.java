package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import io.holdfast.model.Reply.OpResult;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Compare;
import io.holdfast.model.Transaction.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The key commands of {@link LockTable} ({@link KeyCommand}): deletes and counter adds go
 * to {@link Registers}; a {@link Transaction} is read and run here, all or nothing; so is a page of
 * a prefix delete ({@link KeyDeletePrefix}): its keys are found, each checked against the access
 * rules, then all deleted, or none when one may not be written.
 *
 * <p>A transaction is checked whole before anything changes (its sizes against {@link
 * Limits#MAX_TXN_OPS} and {@link Limits#MAX_TXN_BYTES}, every name, value, expected version and
 * time to live), so malformed input is thrown as {@link InvalidArgumentException} and changes
 * nothing. Its compares are read at its place in the log; then the ops of the branch that runs are
 * applied in order inside a journal of {@link Registers}: when one is refused (a conflict, a
 * limit, a quota), the journal is rolled back and the answer is that op's refusal, named by branch
 * and place; else the changes are kept and told, in op order, as one entry's changes.
 */
final class Transactions implements KeyCommand.Visitor<Reply> {
    private final Registers keys;
    private final Queues queues;
    private final Admission admission;
    private final Sessions sessions;
    private final boolean staleCompare;
    private String session;
    private String identity;

    /**
     * @param bugs the table's planted bugs (verification only): with {@link
     *     PlantedBug#STALE_TXN_COMPARE} a version compare for equality also holds for the version
     *     before the key's last write
     */
    Transactions(Registers keys, Queues queues, Admission admission, Sessions sessions, Set<PlantedBug> bugs) {
        this.keys = keys;
        this.queues = queues;
        this.admission = admission;
        this.sessions = sessions;
        this.staleCompare = bugs.contains(PlantedBug.STALE_TXN_COMPARE);
    }

    /**
     * Applies a key command of {@code sessionId}, opened by {@code identity}, whose access was
     * checked (a prefix delete's keys are checked here, once they are known).
     */
    Reply apply(KeyCommand c, String sessionId, String identity) {
        session = sessionId;
        this.identity = identity;
        try {
            return c.accept(this);
        } finally {
            session = null;
            this.identity = null;
        }
    }

    @Override
    public Reply keyDelete(KeyDelete c) {
        return keys.delete(c);
    }

    @Override
    public Reply counterAdd(CounterAdd c) {
        return keys.add(c);
    }

    @Override
    public Reply keyDeletePrefix(KeyDeletePrefix c) {
        if (c.prefix() == null || c.prefix().isEmpty()) {
            throw new InvalidArgumentException(io.holdfast.Keys.EMPTY_PREFIX_DELETE);
        }
        Names.check(c.prefix());
        Limits.checkRange("a prefix delete's limit", c.limit(), 1, KeyDeletePrefix.MAX_LIMIT);
        List<String> found = keys.keysUnder(c.prefix(), c.limit());
        for (String key : found) {
            Reply refused = admission.checkWrite(identity, key);
            if (refused != null) {
                return refused;
            }
        }
        for (String key : found) {
            keys.delete(key, KeyDelete.ANY_VERSION, session);
        }
        return new Reply.Ok(found.size());
    }

    @Override
    public Reply transaction(Transaction t) {
        check(t);
        boolean holds = true;
        for (Compare c : t.compares()) {
            holds &= holds(c);
        }
        List<Op> branch = holds ? t.then() : t.otherwise();
        List<OpResult> results = new ArrayList<>(branch.size());
        keys.begin();
        boolean kept = false;
        try {
            for (int i = 0; i < branch.size(); i++) {
                Reply r = run(branch.get(i));
                if (r instanceof Failed f) {
                    return new Failed(
                            f.code(),
                            (holds ? "then" : "else") + " op " + (i + 1) + ": " + f.message(),
                            f.cycle(),
                            f.currentVersion());
                }
                results.add(result(r, branch.get(i)));
            }
            kept = true;
        } finally {
            if (kept) {
                keys.commit();
            } else {
                keys.rollback();
            }
        }
        return new Reply.Transacted(holds, results);
    }

    private boolean holds(Compare c) {
        if (c instanceof Compare.Version v) {
            long now = version(v.key());
            boolean stale = staleCompare && v.order() == Transaction.Order.EQUAL && now > 1 && v.version() == now - 1;
            return stale || compare(now, v.order(), v.version());
        } else if (c instanceof Compare.Value v) {
            return keys.get(v.key())
                    .map(r -> Arrays.equals(r.value(), v.value()))
                    .orElse(false);
        } else if (c instanceof Compare.Absent a) {
            return keys.get(a.key()).isEmpty();
        } else if (c instanceof Compare.Fence f) {
            return session.equals(queues.holderOf(f.lock(), f.token()));
        } else if (c instanceof Compare.Holder h) {
            return holds(h.lock(), h.sessionId());
        }
        return sessions.contains(((Compare.SessionAlive) c).sessionId());
    }

    private boolean holds(String lock, String sessionId) {
        Resource r = queues.get(lock);
        for (Hold h = r == null ? null : r.holdersHead; h != null; h = h.rNext) {
            if (h.session.id().equals(sessionId)) {
                return true;
            }
        }
        return false;
    }

    private long version(String key) {
        return keys.get(key).map(io.holdfast.model.RegisterValue::version).orElse(0L);
    }

    private static boolean compare(long version, Transaction.Order order, long with) {
        return switch (order) {
            case EQUAL -> version == with;
            case NOT_EQUAL -> version != with;
            case LESS -> version < with;
            case GREATER -> version > with;
        };
    }

    private Reply run(Op op) {
        if (op instanceof Op.Put p && p.lease() != null && !p.lease().equals(session)) {
            Reply refused = leaseRefusal(p.lease());
            return refused != null ? refused : keys.put(p.key(), p.expectedVersion(), p.value(), p.lease(), 0, session);
        } else if (op instanceof Op.Put p) {
            return keys.write(p.key(), p.expectedVersion(), p.value(), p.lifetime(), p.ttlMillis(), session);
        } else if (op instanceof Op.Delete d) {
            return keys.delete(d.key(), d.expectedVersion(), session);
        } else if (op instanceof Op.Add a) {
            return keys.add(a.key(), a.delta(), session);
        }
        return Reply.Ok.INSTANCE; // a get reads when its result is made, after the ops before it
    }

    /**
     * Why a put may not attach its key to the session {@code lease} (ADR 0006), or null: it is not
     * an open session (a conflict, the outcome, as a version mismatch is: never {@code
     * SESSION_EXPIRED}, which would tell the writer its own session is gone), or it was opened by
     * another identity than the writer's and the writer is no admin.
     */
    private Reply leaseRefusal(String lease) {
        if (!sessions.contains(lease)) {
            return Failed.of(io.holdfast.ErrorCode.CONFLICT, "lease " + lease + " is not an open session");
        }
        if (!sessions.owns(identity, lease) && !admission.isAdmin(identity)) {
            return admission.denied(identity, "attach keys to", "lease " + lease + ", a session of another identity");
        }
        return null;
    }

    private OpResult result(Reply r, Op op) {
        if (op instanceof Op.Get g) {
            Optional<io.holdfast.model.RegisterValue> v = keys.get(g.key());
            return v.map(x -> new OpResult(x.version(), x.value(), 0)).orElse(new OpResult(0, null, 0));
        }
        if (r instanceof Reply.Written w) {
            return new OpResult(w.version(), null, 0);
        } else if (r instanceof Reply.Counted c) {
            return new OpResult(c.version(), null, c.value());
        }
        return new OpResult(((Reply.Ok) r).value(), null, 0);
    }

    /** Refuses a malformed transaction before anything changes. */
    private static void check(Transaction t) {
        if (t.compares() == null || t.then() == null || t.otherwise() == null) {
            throw new InvalidArgumentException("a transaction's compares, then and else lists must not be null");
        }
        int most = Math.max(
                t.compares().size(), Math.max(t.then().size(), t.otherwise().size()));
        if (most > Limits.MAX_TXN_OPS) {
            throw new InvalidArgumentException("a transaction has " + most + " compares or ops in one list; the limit"
                    + " txn-ops is " + Limits.MAX_TXN_OPS);
        }
        long bytes = 0;
        for (Compare c : t.compares()) {
            bytes += check(c);
        }
        for (Op op : t.then()) {
            bytes += check(op);
        }
        for (Op op : t.otherwise()) {
            bytes += check(op);
        }
        if (bytes > Limits.MAX_TXN_BYTES) {
            throw new InvalidArgumentException("a transaction carries " + bytes + " bytes of keys and values; the"
                    + " limit txn-bytes is " + Limits.MAX_TXN_BYTES);
        }
    }

    private static long check(Compare c) {
        if (c == null) {
            throw new InvalidArgumentException("a transaction's compare must not be null");
        }
        if (c instanceof Compare.Version v) {
            if (v.order() == null) {
                throw new InvalidArgumentException("a version compare needs an order");
            }
            return KeyArguments.utf8Length(KeyArguments.checkKey(v.key()));
        } else if (c instanceof Compare.Value v) {
            KeyArguments.checkValue(v.value());
            return KeyArguments.utf8Length(KeyArguments.checkKey(v.key())) + (long) v.value().length;
        } else if (c instanceof Compare.Absent a) {
            return KeyArguments.utf8Length(KeyArguments.checkKey(a.key()));
        } else if (c instanceof Compare.Fence f) {
            return KeyArguments.utf8Length(Names.check(f.lock()));
        } else if (c instanceof Compare.Holder h) {
            requireSession(h.sessionId());
            return KeyArguments.utf8Length(Names.check(h.lock()));
        }
        requireSession(((Compare.SessionAlive) c).sessionId());
        return 0;
    }

    private static long check(Op op) {
        if (op == null) {
            throw new InvalidArgumentException("a transaction's op must not be null");
        }
        long bytes = KeyArguments.utf8Length(KeyArguments.checkKey(op.key()));
        if (op instanceof Op.Put p) {
            KeyArguments.checkValue(p.value());
            KeyArguments.checkExpected(p.expectedVersion());
            KeyArguments.checkTtl(p.ttlMillis(), p.lifetime());
            if (p.lease() != null) {
                checkLease(p);
            }
            bytes += p.value().length;
        } else if (op instanceof Op.Delete d) {
            KeyArguments.checkExpected(d.expectedVersion());
        }
        return bytes;
    }

    private static void checkLease(Op.Put p) {
        if (p.lifetime() != io.holdfast.PutOptions.Lifetime.ATTACH || p.ttlMillis() != 0) {
            throw new InvalidArgumentException(
                    "a put on a lease lives as long as the lease: it takes no time to live and no other lifetime");
        }
        String problem = io.holdfast.model.SessionIds.problem(p.lease());
        if (problem != null) {
            throw new InvalidArgumentException("a put's lease: " + problem);
        }
    }

    private static void requireSession(String sessionId) {
        if (sessionId == null) {
            throw new InvalidArgumentException("a holder or session compare needs a session id");
        }
    }
}
