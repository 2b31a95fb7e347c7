package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.FinalLock;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Meta;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
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
    private long origin;

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

    private Op add(String p, double t, Call call) {
        return add(Op.of(p, seq(p), at(t), phase, call));
    }

    /** The exclusive lock {@code key}. */
    static Call.Target lock(String key) {
        return Call.Target.lock(key);
    }

    /** The read side of the read-write lock {@code key}. */
    static Call.Target read(String key) {
        return new Call.Target(key, Op.Kind.READ, 1, 0);
    }

    /** The write side of the read-write lock {@code key}. */
    static Call.Target write(String key) {
        return new Call.Target(key, Op.Kind.WRITE, 1, 0);
    }

    /** {@code permits} of the semaphore {@code key}, which has {@code limit}. */
    static Call.Target semaphore(String key, int permits, int limit) {
        return new Call.Target(key, Op.Kind.SEMAPHORE, permits, limit);
    }

    /**
     * {@code p} holds the exclusive lock {@code key} with {@code token}: asks at {@code t}, is granted
     * at {@code t + 1}, gives it back at {@code t + 2}, released at {@code t + 3}.
     */
    H hold(String p, double t, String key, long token) {
        return acquire(p, t, key).granted(t + 1, token).release(t + 2).released(t + 3);
    }

    /** {@code p} asks for the exclusive lock {@code key} at {@code t}, waiting up to a second. */
    Invoked acquire(String p, double t, String key) {
        return acquire(p, t, lock(key));
    }

    /** {@code p} asks for {@code target} at {@code t}, waiting up to a second. */
    Invoked acquire(String p, double t, Call.Target target) {
        return invoke(p, t, new Call.Acquire(target, false, 1000));
    }

    /** {@code p} tries the exclusive lock {@code key} once at {@code t}. */
    Invoked tryAcquire(String p, double t, String key) {
        return invoke(p, t, new Call.Acquire(lock(key), true, 0));
    }

    /** {@code p} gives back its lease with {@code token} on the exclusive lock {@code key}. */
    Invoked release(String p, double t, String key, long token) {
        return release(p, t, lock(key), token);
    }

    /** {@code p} gives back its lease with {@code token} on {@code target}. */
    Invoked release(String p, double t, Call.Target target, long token) {
        return invoke(p, t, new Call.Release(target, token));
    }

    /** A VALID notice: the lease of {@code p} on {@code target} with {@code token} answered isValid() true at {@code t}. */
    H valid(String p, double t, Call.Target target, long token) {
        add(p, t, new Call.Valid(target, token));
        return this;
    }

    /** The intruder {@code p} releases the lease with {@code token} on {@code key}, not its own. */
    Invoked foreignRelease(String p, double t, String key, long token) {
        return invoke(p, t, new Call.ForeignRelease(key, token));
    }

    /** {@code p} reads the register {@code key}. */
    Invoked get(String p, double t, String key) {
        return invoke(p, t, new Call.RegisterRead(key));
    }

    /** {@code p} writes {@code value} to the register {@code key} if its version is {@code expect}. */
    Invoked cas(String p, double t, String key, long expect, long value) {
        return invoke(p, t, new Call.RegisterWrite(key, expect, value));
    }

    /** {@code p} reads the key {@code name}. */
    Invoked keyGet(String p, double t, String name) {
        return invoke(p, t, new Call.KeyGet(name));
    }

    /** {@code p} lists the keys under {@code prefix}. */
    Invoked keyList(String p, double t, String prefix) {
        return invoke(p, t, new Call.KeyList(prefix));
    }

    /** {@code p} puts {@code value} to {@code name}, leased to the session {@code lease} (null: none). */
    Invoked keyPut(String p, double t, String name, long value, String lease) {
        return invoke(p, t, new Call.KeyPut(name, value, lease));
    }

    /** {@code p} deletes every key under {@code prefix}. */
    Invoked deletePrefix(String p, double t, String prefix) {
        return invoke(p, t, new Call.KeyDeletePrefix(prefix));
    }

    /** A MEMBER notice of {@code p}'s group client ({@link Call.Member}). */
    H member(String p, double t, String event, String member, String session, long version) {
        add(p, t, new Call.Member(event, member, session, version));
        return this;
    }

    /** {@code p} commits {@code txn}. */
    Invoked txn(String p, double t, Call.KeyTxn txn) {
        return invoke(p, t, txn);
    }

    /** A WATCHED notice of {@code p}: {@code event} on {@code name} at {@code position}. */
    H watched(
            String p, double t, String name, String event, String session, long token, String cause, String position) {
        add(p, t, new Call.Watched(name, event, session, token, 0, cause, position));
        return this;
    }

    private Invoked invoke(String p, double t, Call call) {
        return new Invoked(add(p, t, call), call);
    }

    /** An operation invoked; its result at a time (or none: the process died) ends it. */
    final class Invoked {
        private final Op invoke;
        private final Call call;

        private Invoked(Op invoke, Call call) {
            this.invoke = invoke;
            this.call = call;
        }

        /** Answered at {@code t} with {@code result}. */
        H ends(double t, Result result) {
            add(invoke.complete(at(t), result));
            return H.this;
        }

        /** Granted at {@code t} with {@code token}; the hold it gives can be released. */
        Granted granted(double t, long token) {
            ends(t, new Result.Granted(token));
            return new Granted(invoke.process(), ((Call.Acquire) call).target(), token);
        }

        /** Released at {@code t}. */
        H released(double t) {
            return ends(t, new Result.Released());
        }

        /** The register read at {@code t} saw {@code version} and {@code value}. */
        H reads(double t, long version, long value) {
            return ends(t, new Result.RegisterState(version, value));
        }

        /** The register was written at {@code t}, now at {@code newVersion}. */
        H wrote(double t, long newVersion) {
            return ends(t, new Result.Written(newVersion));
        }

        /** The key read or listing answered at {@code t} with {@code entries}. */
        H saw(double t, KeyValue... entries) {
            return ends(t, new Result.KeyState(List.of(entries)));
        }

        /** The transaction answered at {@code t}: its compares held or not, and its ops' {@code entries}. */
        H ran(double t, boolean succeeded, KeyValue... entries) {
            return ends(t, new Result.Transacted(succeeded, List.of(entries)));
        }

        /** Refused at {@code t} because of {@code why} (TIMEOUT, LOST, CONFLICT, …). */
        H refused(double t, String why) {
            return ends(t, new Result.Refused(why));
        }

        /** Unknown at {@code t}: the client could not tell (UNAVAILABLE). */
        H unknown(double t) {
            return ends(t, new Result.Unknown("UNAVAILABLE"));
        }
    }

    /** A hold that a grant gave: {@code p}'s lease with {@code token} on {@code target}. */
    final class Granted {
        private final String p;
        private final Call.Target target;
        private final long token;

        private Granted(String p, Call.Target target, long token) {
            this.p = p;
            this.target = target;
            this.token = token;
        }

        /** The holder gives the lease back at {@code t}. */
        Invoked release(double t) {
            return H.this.release(p, t, target, token);
        }
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
            records.add(new StoreWrite(at(t), store, key, token, p, seq, phase, accepted, highest));
            return H.this;
        }
    }

    /** A LOST notice: the lease of {@code p} with {@code token} was lost, as {@code why} says. */
    H lost(String p, double t, String key, long token, String why) {
        add(p, t, new Call.Lost(Call.Target.lock(key), token, why));
        return this;
    }

    /** A WORK notice: the leader {@code p} of {@code election} begins a step with {@code epoch}. */
    H work(String p, double t, String election, long epoch) {
        add(p, t, new Call.Work(election, epoch));
        return this;
    }

    /** An OBSERVED notice: observer {@code p} was told {@code epoch} (0: nobody) and {@code value}. */
    H observed(String p, double t, String election, long epoch, String value) {
        add(p, t, new Call.Observed(election, epoch, value));
        return this;
    }

    H finalLock(double t, String key, List<String> holders, List<Long> tokens, int waiters, List<String> live) {
        records.add(new FinalLock(at(t), key, holders, tokens, waiters, live));
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

    /** Starts with {@code earlier} (a saved history); the times given from then on count from its last record. */
    H after(List<Record> earlier) {
        records.addAll(earlier);
        origin = earlier.stream().mapToLong(Record::time).max().orElse(0);
        return this;
    }

    private long at(double t) {
        return origin + ms(t);
    }

    static long ms(double t) {
        return Math.round(t * MS);
    }
}
