// Ceiling 440 lines, one idea: the one line form of every call, completion and notice of a history, and the
// mapping both ways beside it, so that no call can be written in a form it is not read back from.
package io.holdfast.verify.history;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * One event of a client operation. An operation is an {@link Type#INVOKE} followed by exactly one
 * completion ({@link Type#OK}, {@link Type#FAIL} or {@link Type#UNKNOWN}) with the same {@code
 * process} and {@code seq}, unless the process died first (then the operation counts as unknown).
 * A {@link Type#NOTICE} stands alone: something the client was told without asking (a lease lost).
 *
 * <p>This is the flat form written to and read from a history; {@link Call} has one record per
 * kind of operation with only its own fields, and {@link #of} and {@link #call} map between them;
 * {@link Result} has one record per kind of answer, and {@link #complete} and {@link #result} map
 * between them and a completion.
 * Which fields mean something depends on {@link Fn}:
 *
 * <ul>
 *   <li>{@code ACQUIRE}: {@code key}, {@code kind} (LOCK, READ, WRITE or SEMAPHORE), {@code permits}
 *       (1 for locks), {@code limit} (a semaphore's permits, else 0), {@code tryOnly}, {@code waitMillis};
 *       on OK the {@code token}. FAIL means not granted (timed out, refused); {@code error} says why.
 *   <li>{@code RELEASE}: {@code key}, {@code kind}, {@code permits}, {@code token} of the lease given
 *       back. OK: released. FAIL with error {@code LOST}: the client learnt the lease had been lost.
 *   <li>{@code LOST} (a NOTICE): the lease with {@code token} on {@code key} was lost; {@code error}
 *       says why as the client heard it.
 *   <li>{@code VALID} (a NOTICE): the lease with {@code token} on {@code key} answered {@code
 *       isValid() == true} at {@code time}. A hold is probed right after its grant (the time taken
 *       after the call) and right before its release (the time taken before the call), so the
 *       lease was valid for the whole time between two VALID notices of one hold.
 *   <li>{@code FOREIGN_RELEASE}: an intruder asked the service to release the lease with {@code token}
 *       on {@code key}, which it does not hold. A correct service always answers FAIL.
 *   <li>{@code REG_GET}: OK carries {@code version} and {@code value} (0/0 when the register is empty).
 *   <li>{@code REG_CAS}: {@code version} expected and {@code value} to write; OK carries the new
 *       version in {@code newVersion}; FAIL with error {@code CONFLICT} means the version did not match.
 *   <li>{@code WORK} (a NOTICE): a leader of the election {@code key} begins one step of its leader
 *       work for the leadership with epoch {@code token}, at {@code time}, taken before it decided to
 *       act (before it looked whether it had been told of a loss). The store writes of the step follow.
 *   <li>{@code OBSERVED} (a NOTICE): what {@code Election.observe} told an observer of the election
 *       {@code key}: the leader's epoch in {@code token} (0: nobody leads) and the value it
 *       proclaimed in {@code text} (null: not yet).
 *   <li>{@code KEY_GET} (kind KEYS): the key in {@code key}; OK carries it in {@code entries} (one
 *       entry, version 0 when absent).
 *   <li>{@code KEY_LIST} (kind KEYS): the prefix in {@code key}; OK carries the keys present in
 *       {@code entries}, in order.
 *   <li>{@code KEY_TXN} (kind KEYS): {@code key} is the group of its keys; {@code compares} the
 *       versions expected, the fence's lock in {@code text} and its token in {@code token} (none
 *       without), {@code puts} the values written, {@code attached} whether they are attached to the
 *       session, {@code gets} the keys read; OK carries {@code succeeded} (the compares held) and the
 *       ops' answers in {@code entries}.
 *   <li>{@code WATCHED} (a NOTICE): a watch reported the event named in {@code text} on the lock or
 *       key {@code key}, by {@code session}, with {@code token} or {@code version}, the cause in
 *       {@code error} and its place in the service's order of changes in {@code position}.
 *   <li>{@code KEY_PUT} (kind KEYS): the key in {@code key}, {@code value}, the lease's session in
 *       {@code session} (none: no owner); OK carries the key as written in {@code entries}.
 *   <li>{@code KEY_DELETE_PREFIX} (kind KEYS): the prefix in {@code key}.
 *   <li>{@code SESSION_CLOSE}: the closed client's session in {@code session}; OK when it returned.
 *   <li>{@code MEMBER} (a NOTICE): the event in {@code text}, the member's key in {@code key}, the
 *       owning (for LOST: the lost) session in {@code session}, the version in {@code version}.
 * </ul>
 *
 * <p>The fields of keys came after the others: a history written before them loads, with none.
 *
 * <p>A campaign of an election is recorded as the ACQUIRE (kind LOCK) of the election's lock, which
 * is what it is: its token is the leadership's epoch; a resignation is that lock's RELEASE.
 *
 * @param type what kind of event
 * @param process the client process ("c1", "probe", …)
 * @param seq the operation's number within its process; invoke and completion share it
 * @param time {@link System#nanoTime()} when the event happened (see {@link Record})
 * @param phase "workload" for the faulted part of a run, "final" for the checks after healing
 * @param text free text of a notice: for OBSERVED the value the leader proclaimed, for WATCHED the
 *     event; for KEY_TXN the fence's lock; null elsewhere
 * @param compares a KEY_TXN's compares
 * @param puts a KEY_TXN's puts
 * @param gets a KEY_TXN's gets
 * @param attached whether a KEY_TXN's puts are attached to its session
 * @param succeeded whether a KEY_TXN's compares held (its completion)
 * @param entries the keys a KEY_GET, KEY_LIST or KEY_TXN answered (its completion)
 * @param session a WATCHED event's session
 * @param position a WATCHED event's place in the service's order of changes
 */
@JsonInclude(JsonInclude.Include.NON_DEFAULT)
public record Op(
        Type type,
        String process,
        long seq,
        long time,
        String phase,
        Fn f,
        String key,
        Kind kind,
        int permits,
        int limit,
        boolean tryOnly,
        long waitMillis,
        long token,
        long version,
        long value,
        long newVersion,
        String error,
        String text,
        List<KeyValue> compares,
        List<KeyValue> puts,
        List<String> gets,
        boolean attached,
        boolean succeeded,
        List<KeyValue> entries,
        String session,
        String position)
        implements Record {

    /** An event's place in its operation. */
    public enum Type {
        INVOKE,
        OK,
        FAIL,
        UNKNOWN,
        NOTICE
    }

    /** What the operation does. */
    public enum Fn {
        ACQUIRE,
        RELEASE,
        LOST,
        VALID,
        FOREIGN_RELEASE,
        REG_GET,
        REG_CAS,
        WORK,
        OBSERVED,
        KEY_GET,
        KEY_LIST,
        KEY_TXN,
        WATCHED,
        KEY_PUT,
        KEY_DELETE_PREFIX,
        SESSION_CLOSE,
        MEMBER
    }

    /** What is locked. */
    public enum Kind {
        LOCK,
        READ,
        WRITE,
        SEMAPHORE,
        REGISTER,
        KEYS
    }

    /** The request id: process and seq. */
    public String id() {
        return process + ":" + seq;
    }

    @JsonIgnore
    public boolean isCompletion() {
        return type == Type.OK || type == Type.FAIL || type == Type.UNKNOWN;
    }

    /**
     * The completion of this invocation at {@code time} with {@code result}. This and {@link
     * #result} are the one mapping between the records of the answers and the flat form on disk; the
     * completion keeps the invocation's fields and adds the result's.
     */
    public Op complete(long time, Result result) {
        Draft d = new Draft(this);
        d.type = result.type();
        d.time = time;
        d.error = result.why();
        if (result instanceof Result.Granted g) {
            d.token = g.token();
        } else if (result instanceof Result.RegisterState s) {
            d.version = s.version();
            d.value = s.value();
        } else if (result instanceof Result.Written w) {
            d.newVersion = w.newVersion();
        } else if (result instanceof Result.KeyState k) {
            d.entries = k.entries();
        } else if (result instanceof Result.Transacted t) {
            d.succeeded = t.succeeded();
            d.entries = t.entries();
        }
        return d.op();
    }

    /** What this completion answered, as its record. */
    @JsonIgnore
    public Result result() {
        return switch (type) {
            case OK ->
                switch (f) {
                    case ACQUIRE -> new Result.Granted(token);
                    case RELEASE, FOREIGN_RELEASE, SESSION_CLOSE -> new Result.Released();
                    case REG_GET -> new Result.RegisterState(version, value);
                    case REG_CAS -> new Result.Written(newVersion);
                    case KEY_GET, KEY_LIST, KEY_PUT, KEY_DELETE_PREFIX -> new Result.KeyState(listOf(entries));
                    case KEY_TXN -> new Result.Transacted(succeeded, listOf(entries));
                    default -> throw new IllegalStateException("a " + f + " has no completion");
                };
            case FAIL -> new Result.Refused(error);
            case UNKNOWN -> new Result.Unknown(error);
            case INVOKE, NOTICE -> throw new IllegalStateException("a " + type + " has no result");
        };
    }

    /**
     * The event of {@code call} by {@code process}: an INVOKE, or a NOTICE for what the client was
     * told without asking. This and {@link #call} are the one mapping between the records of the
     * operations and the flat form on disk.
     */
    public static Op of(String process, long seq, long time, String phase, Call call) {
        Type type = call instanceof Call.Notice ? Type.NOTICE : Type.INVOKE;
        Draft d;
        if (call instanceof Call.Acquire a) {
            d = new Draft(type, process, seq, time, phase, Fn.ACQUIRE, a.target());
            d.tryOnly = a.tryOnly();
            d.waitMillis = a.waitMillis();
        } else if (call instanceof Call.Release r) {
            d = new Draft(type, process, seq, time, phase, Fn.RELEASE, r.target());
            d.token = r.token();
        } else if (call instanceof Call.Lost l) {
            d = new Draft(type, process, seq, time, phase, Fn.LOST, l.target());
            d.token = l.token();
            d.error = l.why();
        } else if (call instanceof Call.Valid v) {
            d = new Draft(type, process, seq, time, phase, Fn.VALID, v.target());
            d.token = v.token();
        } else if (call instanceof Call.ForeignRelease fr) {
            d = new Draft(type, process, seq, time, phase, Fn.FOREIGN_RELEASE, Call.Target.lock(fr.key()));
            d.token = fr.token();
        } else if (call instanceof Call.RegisterRead rr) {
            d = new Draft(type, process, seq, time, phase, Fn.REG_GET, register(rr.key()));
        } else if (call instanceof Call.RegisterWrite rw) {
            d = new Draft(type, process, seq, time, phase, Fn.REG_CAS, register(rw.key()));
            d.version = rw.expectedVersion();
            d.value = rw.value();
        } else if (call instanceof Call.Work w) {
            d = new Draft(type, process, seq, time, phase, Fn.WORK, Call.Target.lock(w.key()));
            d.token = w.epoch();
        } else if (call instanceof Call.KeyGet g) {
            d = new Draft(type, process, seq, time, phase, Fn.KEY_GET, keys(g.name()));
        } else if (call instanceof Call.KeyList l) {
            d = new Draft(type, process, seq, time, phase, Fn.KEY_LIST, keys(l.prefix()));
        } else if (call instanceof Call.KeyTxn t) {
            d = new Draft(type, process, seq, time, phase, Fn.KEY_TXN, keys(t.key()));
            d.compares = t.compares();
            d.text = t.fenceLock();
            d.token = t.fenceToken();
            d.puts = t.puts();
            d.attached = t.attached();
            d.gets = t.gets();
        } else if (call instanceof Call.KeyPut p) {
            d = new Draft(type, process, seq, time, phase, Fn.KEY_PUT, keys(p.name()));
            d.value = p.value();
            d.session = p.lease();
        } else if (call instanceof Call.KeyDeletePrefix dp) {
            d = new Draft(type, process, seq, time, phase, Fn.KEY_DELETE_PREFIX, keys(dp.prefix()));
        } else if (call instanceof Call.SessionClose c) {
            d = new Draft(type, process, seq, time, phase, Fn.SESSION_CLOSE, new Call.Target(null, null, 0, 0));
            d.session = c.session();
        } else if (call instanceof Call.Member m) {
            d = new Draft(type, process, seq, time, phase, Fn.MEMBER, keys(m.member()));
            d.text = m.event();
            d.session = m.session();
            d.version = m.version();
        } else if (call instanceof Call.Watched w) {
            d = new Draft(type, process, seq, time, phase, Fn.WATCHED, keys(w.name()));
            d.text = w.event();
            d.session = w.session();
            d.token = w.token();
            d.version = w.version();
            d.error = w.cause();
            d.position = w.position();
        } else {
            Call.Observed o = (Call.Observed) call;
            d = new Draft(type, process, seq, time, phase, Fn.OBSERVED, new Call.Target(o.key(), Kind.LOCK, 0, 0));
            d.token = o.epoch();
            d.text = o.value();
        }
        return d.op();
    }

    private static Call.Target register(String key) {
        return new Call.Target(key, Kind.REGISTER, 0, 0);
    }

    private static Call.Target keys(String key) {
        return new Call.Target(key, Kind.KEYS, 0, 0);
    }

    /** A list field as read: empty where the line had none (an older history). */
    private static <T> List<T> listOf(List<T> items) {
        return items == null ? List.of() : items;
    }

    /** The operation this event belongs to, as its record (for a completion: what was invoked). */
    @JsonIgnore
    public Call call() {
        Call.Target target = new Call.Target(key, kind, permits, limit);
        return switch (f) {
            case ACQUIRE -> new Call.Acquire(target, tryOnly, waitMillis);
            case RELEASE -> new Call.Release(target, token);
            case LOST -> new Call.Lost(target, token, error);
            case VALID -> new Call.Valid(target, token);
            case FOREIGN_RELEASE -> new Call.ForeignRelease(key, token);
            case REG_GET -> new Call.RegisterRead(key);
            case REG_CAS -> new Call.RegisterWrite(key, version, value);
            case WORK -> new Call.Work(key, token);
            case OBSERVED -> new Call.Observed(key, token, text);
            case KEY_GET -> new Call.KeyGet(key);
            case KEY_LIST -> new Call.KeyList(key);
            case KEY_TXN -> new Call.KeyTxn(listOf(compares), text, token, listOf(puts), attached, listOf(gets));
            case WATCHED -> new Call.Watched(key, text, session, token, version, error, position);
            case KEY_PUT -> new Call.KeyPut(key, value, session);
            case KEY_DELETE_PREFIX -> new Call.KeyDeletePrefix(key);
            case SESSION_CLOSE -> new Call.SessionClose(session);
            case MEMBER -> new Call.Member(text, key, session, version);
        };
    }

    /**
     * The fields of an Op being made, so that each factory and copy names the fields it sets (a
     * record has no named arguments); {@link #op} spells the canonical constructor once.
     */
    private static final class Draft {
        Type type;
        final String process;
        final long seq;
        long time;
        final String phase;
        final Fn f;
        final String key;
        final Kind kind;
        final int permits;
        final int limit;
        boolean tryOnly;
        long waitMillis;
        long token;
        long version;
        long value;
        long newVersion;
        String error;
        String text;
        List<KeyValue> compares;
        List<KeyValue> puts;
        List<String> gets;
        boolean attached;
        boolean succeeded;
        List<KeyValue> entries;
        String session;
        String position;

        Draft(Type type, String process, long seq, long time, String phase, Fn f, Call.Target target) {
            this.type = type;
            this.process = process;
            this.seq = seq;
            this.time = time;
            this.phase = phase;
            this.f = f;
            this.key = target.key();
            this.kind = target.kind();
            this.permits = target.permits();
            this.limit = target.limit();
        }

        Draft(Op o) {
            this(o.type, o.process, o.seq, o.time, o.phase, o.f, new Call.Target(o.key, o.kind, o.permits, o.limit));
            tryOnly = o.tryOnly;
            waitMillis = o.waitMillis;
            token = o.token;
            version = o.version;
            value = o.value;
            newVersion = o.newVersion;
            error = o.error;
            text = o.text;
            compares = o.compares;
            puts = o.puts;
            gets = o.gets;
            attached = o.attached;
            succeeded = o.succeeded;
            entries = o.entries;
            session = o.session;
            position = o.position;
        }

        Op op() {
            return new Op(
                    type,
                    process,
                    seq,
                    time,
                    phase,
                    f,
                    key,
                    kind,
                    permits,
                    limit,
                    tryOnly,
                    waitMillis,
                    token,
                    version,
                    value,
                    newVersion,
                    error,
                    text,
                    compares,
                    puts,
                    gets,
                    attached,
                    succeeded,
                    entries,
                    session,
                    position);
        }
    }
}
