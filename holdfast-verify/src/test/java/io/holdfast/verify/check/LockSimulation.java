package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.FinalLock;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A simulated correct lock service with concurrent clients, producing the records a real run
 * would: exclusive locks with FIFO queues, try acquires and timeouts, a semaphore, a register,
 * fenced and unfenced store writes, replies lost (UNKNOWN, the grant later expiring), and a final
 * phase. Optionally plants one double grant: a blocking acquire granted while another process
 * holds the lock, with the first holder releasing only after the intruder's grant returned.
 */
final class LockSimulation {
    static final long MS = 1_000_000L;
    static final List<String> KEYS = List.of("lock-0", "lock-1", "lock-2", "sem-0", "reg-0");
    private static final Call.Target LOCK_0 = Call.Target.lock("lock-0");
    private static final Result TIMED_OUT = new Result.Refused(Result.Refused.TIMEOUT);

    private final Random rnd;
    private final int targetOps;
    private final boolean plant;
    private final double lostReplies;
    private final List<Record> out = new ArrayList<>();
    private final PriorityQueue<long[]> queue =
            new PriorityQueue<>(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
    private final Map<Long, Runnable> actions = new java.util.HashMap<>();
    private final Map<String, Res> resources = new LinkedHashMap<>();
    private long now = 1_000 * MS;
    private long eventSeq;
    private long lastToken;
    private int issued;
    private boolean planted;
    String plantedKey;

    private static final class Res {
        final String key;
        final Op.Kind kind;
        final int limit;
        final List<Hold> holders = new ArrayList<>();
        final Deque<Waiter> waiters = new ArrayDeque<>();
        long fencedHighest;
        long version;
        long value;

        Res(String key, Op.Kind kind, int limit) {
            this.key = key;
            this.kind = kind;
            this.limit = limit;
        }
    }

    private static final class Hold {
        Proc proc;
        Op acquire;
        long token;
        boolean delivered;
        boolean releasing;
        long replyAt;
        long minRelease;
    }

    private static final class Waiter {
        Proc proc;
        Op acquire;
    }

    private static final class Proc {
        final String name;
        long seq;
        long lastVersion;

        Proc(String name) {
            this.name = name;
        }
    }

    LockSimulation(long seed, int processes, int targetOps, boolean plant, double lostReplies) {
        this.rnd = new Random(seed);
        this.targetOps = targetOps;
        this.plant = plant;
        this.lostReplies = lostReplies;
        resources.put("lock-0", new Res("lock-0", Op.Kind.LOCK, 0));
        resources.put("lock-1", new Res("lock-1", Op.Kind.LOCK, 0));
        resources.put("lock-2", new Res("lock-2", Op.Kind.LOCK, 0));
        resources.put("sem-0", new Res("sem-0", Op.Kind.SEMAPHORE, 2));
        resources.put("reg-0", new Res("reg-0", Op.Kind.REGISTER, 0));
        for (int i = 1; i <= processes; i++) {
            Proc p = new Proc("c" + i);
            at(now + delay(), () -> step(p));
        }
    }

    /** Runs the workload and the final phase; the records ordered by time. */
    List<Record> run() {
        while (!queue.isEmpty()) {
            long[] e = queue.poll();
            now = e[0];
            actions.remove(e[1]).run();
        }
        finalPhase();
        out.sort(Comparator.comparingLong(Record::time));
        return out;
    }

    private void at(long time, Runnable r) {
        long id = eventSeq++;
        actions.put(id, r);
        queue.add(new long[] {Math.max(time, now), id});
    }

    private long delay() {
        return MS / 10 + (long) (rnd.nextDouble() * 2 * MS);
    }

    private void step(Proc p) {
        if (issued >= targetOps) {
            return;
        }
        issued++;
        Res r = resources.get(KEYS.get(rnd.nextInt(KEYS.size())));
        if (r.kind == Op.Kind.REGISTER) {
            if (rnd.nextBoolean()) {
                Op inv = record(Op.of(p.name, ++p.seq, now, "workload", new Call.RegisterRead(r.key)));
                at(now + delay(), () -> {
                    Result read = new Result.RegisterState(r.version, r.value);
                    p.lastVersion = r.version;
                    reply(p, inv, read, now + delay());
                });
            } else {
                Call.RegisterWrite write = new Call.RegisterWrite(r.key, p.lastVersion, rnd.nextInt(1000));
                Op inv = record(Op.of(p.name, ++p.seq, now, "workload", write));
                at(now + delay(), () -> {
                    if (r.version == write.expectedVersion()) {
                        r.version++;
                        r.value = write.value();
                        p.lastVersion = r.version;
                        reply(p, inv, new Result.Written(r.version), now + delay());
                    } else {
                        p.lastVersion = r.version;
                        reply(p, inv, new Result.Refused(Result.Refused.CONFLICT), now + delay());
                    }
                });
            }
            return;
        }
        boolean tryOnly = rnd.nextInt(5) == 0;
        int permits = r.kind == Op.Kind.SEMAPHORE ? 1 + rnd.nextInt(2) : 1;
        Op inv = record(Op.of(
                p.name,
                ++p.seq,
                now,
                "workload",
                new Call.Acquire(new Call.Target(r.key, r.kind, permits, r.limit), tryOnly, tryOnly ? 0 : 20)));
        at(now + delay(), () -> applyAcquire(p, r, inv));
    }

    private Op record(Op op) {
        out.add(op);
        return op;
    }

    /** Records the completion of {@code invoke} at {@code time} and lets the process go on after a pause. */
    private void reply(Proc p, Op invoke, Result result, long time) {
        at(time, () -> {
            record(invoke.complete(now, result));
            at(now + rnd.nextInt(3) * MS, () -> step(p));
        });
    }

    private boolean grantable(Res r, int permits) {
        if (r.kind == Op.Kind.LOCK) {
            return r.holders.isEmpty();
        }
        int used = r.holders.stream().mapToInt(h -> h.acquire.permits()).sum();
        return used + permits <= r.limit;
    }

    private void applyAcquire(Proc p, Res r, Op inv) {
        if (grantable(r, inv.permits()) && r.waiters.isEmpty()) {
            grant(r, p, inv);
        } else if (plant
                && !planted
                && !inv.tryOnly()
                && r.kind == Op.Kind.LOCK
                && r.holders.size() == 1
                && r.holders.get(0).delivered
                && !r.holders.get(0).releasing) {
            planted = true;
            plantedKey = r.key;
            Hold first = r.holders.get(0);
            Hold intruder = grant(r, p, inv);
            first.minRelease = intruder.replyAt + MS;
        } else if (inv.tryOnly()) {
            reply(p, inv, TIMED_OUT, now + delay());
        } else {
            Waiter w = new Waiter();
            w.proc = p;
            w.acquire = inv;
            r.waiters.add(w);
            at(now + inv.waitMillis() * MS, () -> {
                if (r.waiters.remove(w)) {
                    reply(p, inv, TIMED_OUT, now + delay());
                }
            });
        }
    }

    private Hold grant(Res r, Proc p, Op inv) {
        Hold h = new Hold();
        h.proc = p;
        h.acquire = inv;
        h.token = ++lastToken;
        h.replyAt = now + delay();
        r.holders.add(h);
        if (!planted && rnd.nextDouble() < lostReplies) {
            // the reply is lost: the client reports UNKNOWN and the lease expires later
            reply(p, inv, new Result.Unknown("UNAVAILABLE"), h.replyAt);
            at(now + 10 * MS, () -> {
                if (r.holders.remove(h)) {
                    drain(r);
                }
            });
            return h;
        }
        at(h.replyAt, () -> {
            record(inv.complete(now, new Result.Granted(h.token)));
            valid(r, h); // the client asks its lease right after the grant
            h.delivered = true;
            storeWrite(r, h, StoreWrite.ENTER);
            at(now + (1 + rnd.nextInt(4)) * MS, () -> release(r, h));
        });
        return h;
    }

    private void release(Res r, Hold h) {
        if (now < h.minRelease) {
            at(h.minRelease, () -> release(r, h));
            return;
        }
        h.releasing = true;
        storeWrite(r, h, StoreWrite.EXIT);
        valid(r, h); // and right before its release
        Proc p = h.proc;
        Op inv = record(Op.of(p.name, ++p.seq, now, "workload", new Call.Release(target(r, h), h.token)));
        at(now + delay(), () -> {
            r.holders.remove(h);
            drain(r);
            reply(p, inv, new Result.Released(), now + delay());
        });
    }

    /** A VALID notice: the client's lease of {@code h} answered isValid() true now. */
    private void valid(Res r, Hold h) {
        Proc p = h.proc;
        record(Op.of(p.name, ++p.seq, now, "workload", new Call.Valid(target(r, h), h.token)));
    }

    private static Call.Target target(Res r, Hold h) {
        return new Call.Target(r.key, r.kind, h.acquire.permits(), r.limit);
    }

    private void drain(Res r) {
        while (!r.waiters.isEmpty() && grantable(r, r.waiters.peek().acquire.permits())) {
            Waiter w = r.waiters.poll();
            grant(r, w.proc, w.acquire);
        }
    }

    private void storeWrite(Res r, Hold h, String phase) {
        if (r.kind != Op.Kind.LOCK) {
            return;
        }
        boolean accepted = h.token >= r.fencedHighest;
        out.add(new StoreWrite(
                now,
                StoreWrite.FENCED,
                r.key,
                h.token,
                h.proc.name,
                h.acquire.seq(),
                phase,
                accepted,
                r.fencedHighest));
        r.fencedHighest = Math.max(r.fencedHighest, h.token);
        out.add(new StoreWrite(now, StoreWrite.UNFENCED, r.key, h.token, h.proc.name, h.acquire.seq(), phase, true, 0));
    }

    private void finalPhase() {
        for (Res r : resources.values()) {
            if (r.kind != Op.Kind.REGISTER) {
                List<String> holders = new ArrayList<>();
                List<Long> tokens = new ArrayList<>();
                for (Hold h : r.holders) {
                    holders.add(h.proc.name);
                    tokens.add(h.token);
                }
                out.add(new FinalLock(now += MS, r.key, holders, tokens, r.waiters.size(), List.of()));
            }
        }
        // probe takes lock-0, probe2 waits, probe releases, probe2 is granted at once
        Op a = record(Op.of("probe", 1, now += MS, "final", new Call.Acquire(LOCK_0, false, 5000)));
        record(a.complete(now += MS, new Result.Granted(++lastToken)));
        long first = lastToken;
        Op w = record(Op.of("probe2", 1, now += MS, "final", new Call.Acquire(LOCK_0, false, 5000)));
        Op rel = record(Op.of("probe", 2, now += MS, "final", new Call.Release(LOCK_0, first)));
        record(rel.complete(now += MS, new Result.Released()));
        record(w.complete(now += MS, new Result.Granted(++lastToken)));
        Op rel2 = record(Op.of("probe2", 2, now += MS, "final", new Call.Release(LOCK_0, lastToken)));
        record(rel2.complete(now += MS, new Result.Released()));
        Res reg = resources.get("reg-0");
        Op g = record(Op.of("probe", 3, now += MS, "final", new Call.RegisterRead("reg-0")));
        record(g.complete(now += MS, new Result.RegisterState(reg.version, reg.value)));
        // three replicas that applied the same log
        for (String node : List.of("n1", "n2", "n3")) {
            out.add(new io.holdfast.verify.history.Replica(now += MS, node, 1000, "c0ffee", 1));
        }
        // and the same entries, index by index (a short trace: what the applied checker reads)
        for (String node : List.of("n1", "n2", "n3")) {
            for (long index = 998; index <= 1000; index++) {
                out.add(new io.holdfast.verify.history.Applied(
                        0, node, index, 1, Long.toHexString(index * 31), Long.toHexString(index * 17)));
            }
        }
    }
}
