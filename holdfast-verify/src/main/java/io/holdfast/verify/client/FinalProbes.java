package io.holdfast.verify.client;

import io.holdfast.HolderInfo;
import io.holdfast.LockClient;
import io.holdfast.LockInfo;
import io.holdfast.verify.history.FinalLock;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The probes a worker runs for the final phase, once the workload stopped ({@link ClientMain}'s
 * {@code final-acquire}, {@code final-release}, {@code final-get}, {@code final-state} and {@code
 * peek-state}): each recorded with phase {@value ClientMain#FINAL}, each answered with one line.
 * The grants of {@code final-acquire} are kept, oldest first per name, until {@code final-release}
 * or {@link #releaseAll()} gives them back (recorded too).
 */
final class FinalProbes {
    private final Recorder rec;
    private final Ops ops;
    private final Supplier<LockClient> client;
    private final Map<String, Deque<Ops.Held>> held = new HashMap<>();

    FinalProbes(Recorder rec, Ops ops, Supplier<LockClient> client) {
        this.rec = rec;
        this.ops = ops;
        this.client = client;
    }

    /**
     * Acquires {@code name} ({@code limit} is the semaphore's, 0 otherwise; a wait of 0 is a try)
     * and keeps the grant. Answers {@code OK <token>} or {@code FAIL <error>}.
     */
    String acquire(String name, Op.Kind kind, int limit, long waitMillis) {
        Ops.Acquired a =
                ops.acquire(ClientMain.FINAL, client.get(), name, kind, limit, waitMillis == 0, waitMillis, null);
        if (a.held() != null) {
            synchronized (held) {
                held.computeIfAbsent(name, k -> new ArrayDeque<>()).addLast(a.held());
            }
            return "OK " + a.held().token();
        }
        return "FAIL " + a.result().why();
    }

    /**
     * Releases the oldest grant kept on {@code name}. Answers {@code OK <token>} or {@code FAIL
     * <error>}; {@code FAIL NOT_HELD} (not recorded) if there is none.
     */
    String release(String name) {
        Ops.Held h;
        synchronized (held) {
            Deque<Ops.Held> q = held.get(name);
            h = q == null ? null : q.pollFirst();
        }
        if (h == null) {
            return "FAIL NOT_HELD";
        }
        Result done = ops.release(ClientMain.FINAL, h);
        return done instanceof Result.Released ? "OK " + h.token() : "FAIL " + done.why();
    }

    /** Reads the register {@code key}. Answers {@code OK <version> <value>} or {@code FAIL <error>}. */
    String get(String key) {
        Result done = ops.regGet(ClientMain.FINAL, client.get(), key);
        return done instanceof Result.RegisterState read
                ? "OK " + read.version() + " " + read.value()
                : "FAIL " + done.why();
    }

    /**
     * Records what the service says about each name as a {@link FinalLock} (unless {@code record}
     * is false); answers {@code STATE-END} followed by "name:holders/waiters" for each.
     *
     * @param live the session ids of the run's open clients
     */
    String state(List<String> live, List<String> names, boolean record) {
        StringBuilder answer = new StringBuilder("STATE-END");
        for (String name : names) {
            Optional<LockInfo> info = client.get().admin().describe(name);
            List<String> holders = new ArrayList<>();
            List<Long> tokens = new ArrayList<>();
            int waiters = 0;
            if (info.isPresent()) {
                for (HolderInfo h : info.get().holders()) {
                    holders.add(h.sessionId());
                    tokens.add(h.fencingToken());
                }
                waiters = info.get().waiters().size();
            }
            if (record) {
                rec.append(new FinalLock(Recorder.now(), name, holders, tokens, waiters, live));
            }
            answer.append(' ')
                    .append(name)
                    .append(':')
                    .append(holders.size())
                    .append('/')
                    .append(waiters);
        }
        return answer.toString();
    }

    /** Gives back every grant still kept (recorded). */
    void releaseAll() {
        synchronized (held) {
            for (Deque<Ops.Held> q : held.values()) {
                for (Ops.Held h : q) {
                    ops.release(ClientMain.FINAL, h);
                }
            }
            held.clear();
        }
    }
}
