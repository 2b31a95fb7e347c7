package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's keys disappear exactly when its locks are released: in the same step of the log. The
 * workload's short sessions each take a lock L (its grant's token T), then, fenced by T, put a key
 * K attached to the session, then end; so K lives from its put to the step that ends the session
 * and frees T. For each such key:
 *
 * <ul>
 *   <li>No read that began after a grant of L with a token above T returned sees K: that grant
 *       came after T was freed, and K went in the same step.
 *   <li>No read that began after K's put returned sees K absent while T is shown held after the
 *       read returned (a VALID notice of T, a release of T invoked, or a transaction fenced by T
 *       that succeeded and began, after the read's return).
 *   <li>Where watches reported both (WATCHED notices), the deletion of K for the session's end and
 *       the release of T for it stand at the same log index.
 * </ul>
 */
final class SessionKeys {
    /** One attached key: its put and the grant it was fenced by. */
    private record Attached(String key, String lock, long token, Operation put) {}

    private final long origin;
    private final List<Operation> ops;
    private final List<Op> notices = new ArrayList<>();
    private final List<Attached> attached = new ArrayList<>();
    private long reads;
    private long pairs;

    SessionKeys(List<Record> records, long origin) {
        this.origin = origin;
        this.ops = Operation.pair(records);
        for (Record r : records) {
            if (r instanceof Op op && op.type() == Op.Type.NOTICE) {
                notices.add(op);
            }
        }
        for (Operation o : ops) {
            if (o.call() instanceof Call.KeyTxn t
                    && t.attached()
                    && t.fenceLock() != null
                    && o.result() instanceof Result.Transacted done
                    && done.succeeded()) {
                for (KeyValue p : t.puts()) {
                    attached.add(new Attached(p.key(), t.fenceLock(), t.fenceToken(), o));
                }
            }
        }
    }

    Map<String, Long> counts() {
        return Map.of(
                "session keys", (long) attached.size(),
                "session key reads", reads,
                "session ends watched", pairs);
    }

    void check(List<String> violations) {
        List<String> found = new ArrayList<>();
        for (Attached a : attached) {
            long takenOver = takenOver(a);
            for (Operation o : ops) {
                Boolean present = sees(o, a.key());
                if (present == null || o.start() < a.put().end()) {
                    continue;
                }
                reads++;
                if (present && o.start() > takenOver) {
                    found.add(a.key() + " outlived its session: " + o.describe(origin) + " saw it after a grant of "
                            + a.lock() + " above token " + a.token() + " returned at " + Times.at(takenOver, origin));
                } else if (!present) {
                    long held = heldAfter(a, o.end());
                    if (held != Long.MIN_VALUE) {
                        found.add(a.key() + " went before its session's lock: " + o.describe(origin)
                                + " saw it absent while " + a.lock() + " token " + a.token() + " was still held at "
                                + Times.at(held, origin));
                    }
                }
            }
            watched(a, found);
        }
        KeysChecker.report("session keys", found, violations);
    }

    /** When the first grant of the lock with a higher token returned; MAX_VALUE if none did. */
    private long takenOver(Attached a) {
        long first = Long.MAX_VALUE;
        for (Operation o : ops) {
            if (o.call() instanceof Call.Acquire && a.lock().equals(o.key()) && o.token() > a.token()) {
                first = Math.min(first, o.end());
            }
        }
        return first;
    }

    /** Whether {@code o} saw {@code key} present (true), absent (false), or did not read it (null). */
    private static Boolean sees(Operation o, String key) {
        if (o.call() instanceof Call.KeyGet g && g.name().equals(key) && o.result() instanceof Result.KeyState k) {
            return !k.entries().isEmpty() && !k.entries().get(0).isAbsent();
        }
        if (o.call() instanceof Call.KeyList l
                && key.startsWith(l.prefix())
                && o.result() instanceof Result.KeyState k) {
            return k.entries().stream().anyMatch(e -> e.key().equals(key) && !e.isAbsent());
        }
        return null;
    }

    /** A time after {@code after} at which the grant is shown held, or MIN_VALUE. */
    private long heldAfter(Attached a, long after) {
        for (Op n : notices) {
            if (n.f() == Op.Fn.VALID && a.lock().equals(n.key()) && n.token() == a.token() && n.time() > after) {
                return n.time();
            }
        }
        for (Operation o : ops) {
            boolean release =
                    o.call() instanceof Call.Release r && a.lock().equals(o.key()) && r.token() == a.token() && o.ok();
            boolean fenced = o.call() instanceof Call.KeyTxn t
                    && a.lock().equals(t.fenceLock())
                    && t.fenceToken() == a.token()
                    && o.result() instanceof Result.Transacted done
                    && done.succeeded();
            if ((release || fenced) && o.start() > after) {
                return o.start();
            }
        }
        return Long.MIN_VALUE;
    }

    /** Compares the watched deletion of the key with the watched release of its grant. */
    private void watched(Attached a, List<String> found) {
        Map<String, Call.Watched> deleted = new HashMap<>();
        Map<String, Call.Watched> released = new HashMap<>();
        for (Op n : notices) {
            if (n.f() != Op.Fn.WATCHED || !(n.call() instanceof Call.Watched w) || !ofSessionEnd(w.cause())) {
                continue;
            }
            if ("REGISTER_DELETED".equals(w.event()) && w.name().equals(a.key())) {
                deleted.putIfAbsent(n.process(), w);
            } else if ("RELEASED".equals(w.event()) && w.name().equals(a.lock()) && w.token() == a.token()) {
                released.putIfAbsent(n.process(), w);
            }
        }
        for (Map.Entry<String, Call.Watched> d : deleted.entrySet()) {
            Call.Watched r = released.get(d.getKey());
            if (r == null) {
                continue;
            }
            pairs++;
            if (d.getValue().index() != r.index()) {
                found.add(a.key() + " was deleted at " + d.getValue().position() + " but its session's grant of "
                        + a.lock() + " (token " + a.token() + ") was released at " + r.position()
                        + " (watched by " + d.getKey() + "): not one step");
            }
        }
    }

    private static boolean ofSessionEnd(String cause) {
        return "SESSION_EXPIRED".equals(cause) || "SESSION_CLOSED".equals(cause);
    }
}
