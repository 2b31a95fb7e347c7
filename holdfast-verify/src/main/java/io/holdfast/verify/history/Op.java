package io.holdfast.verify.history;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One event of a client operation. An operation is an {@link Type#INVOKE} followed by exactly one
 * completion ({@link Type#OK}, {@link Type#FAIL} or {@link Type#UNKNOWN}) with the same {@code
 * process} and {@code seq}, unless the process died first (then the operation counts as unknown).
 * A {@link Type#NOTICE} stands alone: something the client was told without asking (a lease lost).
 *
 * <p>Which fields mean something depends on {@link Fn}:
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
 * </ul>
 *
 * <p>A campaign of an election is recorded as the ACQUIRE (kind LOCK) of the election's lock, which
 * is what it is: its token is the leadership's epoch; a resignation is that lock's RELEASE.
 *
 * @param type what kind of event
 * @param process the client process ("c1", "probe", …)
 * @param seq the operation's number within its process; invoke and completion share it
 * @param time {@link System#nanoTime()} when the event happened (see {@link Record})
 * @param phase "workload" for the faulted part of a run, "final" for the checks after healing
 * @param text free text of a notice: for OBSERVED the value the leader proclaimed; null elsewhere
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
        String text)
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
        OBSERVED
    }

    /** What is locked. */
    public enum Kind {
        LOCK,
        READ,
        WRITE,
        SEMAPHORE,
        REGISTER
    }

    /** The request id: process and seq. */
    public String id() {
        return process + ":" + seq;
    }

    @JsonIgnore
    public boolean isCompletion() {
        return type == Type.OK || type == Type.FAIL || type == Type.UNKNOWN;
    }

    /** A completion of this invocation, at {@code time}. */
    public Op complete(Type outcome, long time) {
        Draft d = new Draft(this);
        d.type = outcome;
        d.time = time;
        return d.op();
    }

    public Op withToken(long t) {
        Draft d = new Draft(this);
        d.token = t;
        return d.op();
    }

    public Op withError(String e) {
        Draft d = new Draft(this);
        d.error = e;
        return d.op();
    }

    public Op withRegister(long v, long val, long newV) {
        Draft d = new Draft(this);
        d.version = v;
        d.value = val;
        d.newVersion = newV;
        return d.op();
    }

    /** An invocation of an acquire. */
    public static Op acquire(
            String process,
            long seq,
            long time,
            String phase,
            String key,
            Kind kind,
            int permits,
            int limit,
            boolean tryOnly,
            long waitMillis) {
        Draft d = new Draft(Type.INVOKE, process, seq, time, phase, Fn.ACQUIRE, key, kind, permits, limit);
        d.tryOnly = tryOnly;
        d.waitMillis = waitMillis;
        return d.op();
    }

    /** An invocation of a release of the lease with {@code token}. */
    public static Op release(
            String process,
            long seq,
            long time,
            String phase,
            String key,
            Kind kind,
            int permits,
            int limit,
            long token) {
        Draft d = new Draft(Type.INVOKE, process, seq, time, phase, Fn.RELEASE, key, kind, permits, limit);
        d.token = token;
        return d.op();
    }

    /** A notice that the lease with {@code token} was lost. */
    public static Op lost(
            String process,
            long seq,
            long time,
            String phase,
            String key,
            Kind kind,
            int permits,
            int limit,
            long token,
            String why) {
        Draft d = new Draft(Type.NOTICE, process, seq, time, phase, Fn.LOST, key, kind, permits, limit);
        d.token = token;
        d.error = why;
        return d.op();
    }

    /** A notice that the lease with {@code token} answered {@code isValid()} true at {@code time}. */
    public static Op valid(
            String process,
            long seq,
            long time,
            String phase,
            String key,
            Kind kind,
            int permits,
            int limit,
            long token) {
        Draft d = new Draft(Type.NOTICE, process, seq, time, phase, Fn.VALID, key, kind, permits, limit);
        d.token = token;
        return d.op();
    }

    /** An invocation of an intruder's release of someone else's lease. */
    public static Op foreignRelease(String process, long seq, long time, String phase, String key, long token) {
        Draft d = new Draft(Type.INVOKE, process, seq, time, phase, Fn.FOREIGN_RELEASE, key, Kind.LOCK, 1, 0);
        d.token = token;
        return d.op();
    }

    /** An invocation of a register read. */
    public static Op regGet(String process, long seq, long time, String phase, String key) {
        return new Draft(Type.INVOKE, process, seq, time, phase, Fn.REG_GET, key, Kind.REGISTER, 0, 0).op();
    }

    /** An invocation of a register compare-and-set. */
    public static Op regCas(String process, long seq, long time, String phase, String key, long expect, long value) {
        Draft d = new Draft(Type.INVOKE, process, seq, time, phase, Fn.REG_CAS, key, Kind.REGISTER, 0, 0);
        d.version = expect;
        d.value = value;
        return d.op();
    }

    /** A notice that a leader begins a step of its work for the leadership with epoch {@code epoch}. */
    public static Op work(String process, long seq, long time, String phase, String election, long epoch) {
        Draft d = new Draft(Type.NOTICE, process, seq, time, phase, Fn.WORK, election, Kind.LOCK, 1, 0);
        d.token = epoch;
        return d.op();
    }

    /**
     * A notice of what an observer was told: the leader's epoch (0 when nobody leads) and its
     * proclaimed value (null when not proclaimed yet).
     */
    public static Op observed(
            String process, long seq, long time, String phase, String election, long epoch, String value) {
        Draft d = new Draft(Type.NOTICE, process, seq, time, phase, Fn.OBSERVED, election, Kind.LOCK, 0, 0);
        d.token = epoch;
        d.text = value;
        return d.op();
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

        Draft(
                Type type,
                String process,
                long seq,
                long time,
                String phase,
                Fn f,
                String key,
                Kind kind,
                int permits,
                int limit) {
            this.type = type;
            this.process = process;
            this.seq = seq;
            this.time = time;
            this.phase = phase;
            this.f = f;
            this.key = key;
            this.kind = kind;
            this.permits = permits;
            this.limit = limit;
        }

        Draft(Op o) {
            this(o.type, o.process, o.seq, o.time, o.phase, o.f, o.key, o.kind, o.permits, o.limit);
            tryOnly = o.tryOnly;
            waitMillis = o.waitMillis;
            token = o.token;
            version = o.version;
            value = o.value;
            newVersion = o.newVersion;
            error = o.error;
            text = o.text;
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
                    text);
        }
    }
}
