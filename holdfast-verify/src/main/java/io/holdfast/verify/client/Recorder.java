package io.holdfast.verify.client;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records one process's operations as {@link Op} lines: hands out the sequence numbers (one counter
 * per process, shared by its workload, its loss notices and its final-phase probes) and stamps
 * every event with {@link System#nanoTime()} when it is written.
 *
 * <p><b>Guarantees.</b> Sequence numbers are unique within the process and increase in the order
 * operations were invoked. Each invoke ({@link #record}) is written before the call it describes
 * starts, and each completion after the call returned, so an operation's interval in the history
 * contains its real effect. Thread-safe: notices arrive on client threads while the workload runs.
 *
 * <p><b>Not guaranteed.</b> That every invoke gets its completion: a process killed in between
 * leaves an invoke alone, which the checkers read as an operation of unknown outcome. Pairing
 * every invoke with exactly one completion is the caller's duty.
 */
public final class Recorder {
    private final String process;
    private final History.Writer out;
    private final AtomicLong seq = new AtomicLong();

    /**
     * @param process the process id written on every event ("c1", "x1", …)
     * @param out where events go; each is flushed as it is written
     */
    public Recorder(String process, History.Writer out) {
        this.process = process;
        this.out = out;
    }

    public String process() {
        return process;
    }

    /** The current time on the history's clock. */
    public static long now() {
        return System.nanoTime();
    }

    /** Appends any other record (the final state of a lock). */
    public void append(io.holdfast.verify.history.Record r) {
        out.append(r);
    }

    /** Writes the invocation of {@code call} (or the notice it is) now, and returns it. */
    public Op record(String phase, Call call) {
        return record(phase, now(), call);
    }

    /** Writes the invocation of {@code call} (or the notice it is) with {@code time}, and returns it. */
    public Op record(String phase, long time, Call call) {
        Op op = Op.of(process, seq.incrementAndGet(), time, phase, call);
        out.append(op);
        return op;
    }

    /** Writes the completion of {@code invoke} with {@code result} now, and returns the result. */
    public <R extends Result> R complete(Op invoke, R result) {
        out.append(invoke.complete(now(), result));
        return result;
    }
}
