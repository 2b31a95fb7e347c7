package io.holdfast.verify.check;

import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.FinalLock;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds small histories by hand; times are in milliseconds. */
final class H {
    static final long MS = 1_000_000L;

    private final List<Record> records = new ArrayList<>();
    private final Map<String, Long> seqs = new HashMap<>();
    private String phase = "workload";

    H phase(String p) {
        this.phase = p;
        return this;
    }

    private long seq(String p) {
        return seqs.merge(p, 1L, Long::sum);
    }

    private Op add(Op op) {
        records.add(op);
        return op;
    }

    Op acquire(String p, double t, String key) {
        return acquire(p, t, key, Op.Kind.LOCK, 1, 0, false);
    }

    Op tryAcquire(String p, double t, String key) {
        return acquire(p, t, key, Op.Kind.LOCK, 1, 0, true);
    }

    Op acquire(String p, double t, String key, Op.Kind kind, int permits, int limit, boolean tryOnly) {
        return add(Op.acquire(p, seq(p), ms(t), phase, key, kind, permits, limit, tryOnly, tryOnly ? 0 : 1000));
    }

    Op release(String p, double t, String key, long token) {
        return add(Op.release(p, seq(p), ms(t), phase, key, Op.Kind.LOCK, 1, 0, token));
    }

    Op release(String p, double t, Op acquire, long token) {
        return add(Op.release(
                p, seq(p), ms(t), phase, acquire.key(), acquire.kind(), acquire.permits(), acquire.limit(), token));
    }

    /** A VALID notice: the lease of {@code p} with {@code token} answered isValid() true at {@code t}. */
    H valid(String p, double t, String key, Op.Kind kind, long token) {
        add(Op.valid(p, seq(p), ms(t), phase, key, kind, 1, 0, token));
        return this;
    }

    Op foreignRelease(String p, double t, String key, long token) {
        return add(Op.foreignRelease(p, seq(p), ms(t), phase, key, token));
    }

    Op get(String p, double t, String key) {
        return add(Op.regGet(p, seq(p), ms(t), phase, key));
    }

    Op cas(String p, double t, String key, long expect, long value) {
        return add(Op.regCas(p, seq(p), ms(t), phase, key, expect, value));
    }

    Op ok(Op invoke, double t) {
        return add(invoke.complete(Op.Type.OK, ms(t)));
    }

    Op ok(Op invoke, double t, long token) {
        return add(invoke.complete(Op.Type.OK, ms(t)).withToken(token));
    }

    Op okGet(Op invoke, double t, long version, long value) {
        return add(invoke.complete(Op.Type.OK, ms(t)).withRegister(version, value, 0));
    }

    Op okCas(Op invoke, double t, long newVersion) {
        return add(invoke.complete(Op.Type.OK, ms(t)).withRegister(invoke.version(), invoke.value(), newVersion));
    }

    Op fail(Op invoke, double t, String error) {
        return add(invoke.complete(Op.Type.FAIL, ms(t)).withError(error));
    }

    Op unknown(Op invoke, double t) {
        return add(invoke.complete(Op.Type.UNKNOWN, ms(t)).withError("UNAVAILABLE"));
    }

    /** A lock held from acquire [a0,a1] to release [r0,r1], both OK. */
    H hold(String p, String key, long token, double a0, double a1, double r0, double r1) {
        Op a = acquire(p, a0, key);
        ok(a, a1, token);
        ok(release(p, r0, key, token), r1);
        return this;
    }

    /** A write of {@code p}'s operation {@code seq} to the fenced store at {@code t}. */
    StoreWriting fenced(double t, String p, long seq) {
        return new StoreWriting(StoreWrite.FENCED, t, p, seq);
    }

    /** A write of {@code p}'s operation {@code seq} to the unfenced twin at {@code t}. */
    StoreWriting unfenced(double t, String p, long seq) {
        return new StoreWriting(StoreWrite.UNFENCED, t, p, seq);
    }

    /** A store write being described: accepted unless {@link #refused}; its phase, key and token end it. */
    final class StoreWriting {
        private final String store;
        private final double t;
        private final String p;
        private final long seq;
        private boolean accepted = true;
        private long highest;

        private StoreWriting(String store, double t, String p, long seq) {
            this.store = store;
            this.t = t;
            this.p = p;
            this.seq = seq;
        }

        StoreWriting refused() {
            accepted = false;
            return this;
        }

        /** The store had seen {@code token} as the key's highest before this write. */
        StoreWriting after(long token) {
            highest = token;
            return this;
        }

        H enters(String key, long token) {
            return writes(StoreWrite.ENTER, key, token);
        }

        H exits(String key, long token) {
            return writes(StoreWrite.EXIT, key, token);
        }

        H works(String key, long token) {
            return writes(StoreWrite.WORK, key, token);
        }

        H writes(String phase, String key, long token) {
            records.add(new StoreWrite(ms(t), store, key, token, p, seq, phase, accepted, highest));
            return H.this;
        }
    }

    /** A LOST notice: the lease of {@code p} with {@code token} was lost, as {@code why} says. */
    H lost(String p, double t, String key, long token, String why) {
        add(Op.lost(p, seq(p), ms(t), phase, key, Op.Kind.LOCK, 1, 0, token, why));
        return this;
    }

    /** A WORK notice: the leader {@code p} of {@code election} begins a step with {@code epoch}. */
    H work(String p, double t, String election, long epoch) {
        add(Op.work(p, seq(p), ms(t), phase, election, epoch));
        return this;
    }

    /** An OBSERVED notice: observer {@code p} was told {@code epoch} (0: nobody) and {@code value}. */
    H observed(String p, double t, String election, long epoch, String value) {
        add(Op.observed(p, seq(p), ms(t), phase, election, epoch, value));
        return this;
    }

    H finalLock(double t, String key, List<String> holders, List<Long> tokens, int waiters, List<String> live) {
        records.add(new FinalLock(ms(t), key, holders, tokens, waiters, live));
        return this;
    }

    /** The run's Meta: its scenario and what the scenario expects. */
    H meta(String scenario, Expectation... expects) {
        records.add(new Meta(0, scenario, 1, 3, 2, null, 5000, Map.of(), Set.of(expects)));
        return this;
    }

    /** The records ordered by time (stable). */
    List<Record> records() {
        List<Record> out = new ArrayList<>(records);
        out.sort(Comparator.comparingLong(Record::time));
        return out;
    }

    static long ms(double t) {
        return Math.round(t * MS);
    }
}
