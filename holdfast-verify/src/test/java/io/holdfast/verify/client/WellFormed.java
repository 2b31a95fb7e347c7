package io.holdfast.verify.client;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape a client's history must have, whatever the service did (not whether the service was
 * right): the checks of the workload tests, each returning what it found wrong.
 */
final class WellFormed {
    private WellFormed() {}

    /** Problems with the ops of one or more processes (in file order per process). */
    static List<String> ops(List<Op> ops) {
        List<String> problems = new ArrayList<>();
        Map<String, Op> open = new HashMap<>();
        Set<String> done = new HashSet<>();
        Map<String, Call.Target> grants = new HashMap<>(); // process:token -> what was granted
        Set<String> released = new HashSet<>();
        for (Op op : ops) {
            String id = op.id();
            switch (op.type()) {
                case INVOKE -> {
                    if (open.containsKey(id) || done.contains(id)) {
                        problems.add("seq used twice: " + id);
                    }
                    open.put(id, op);
                    if (op.call() instanceof Call.Release release) {
                        String g = op.process() + ":" + release.token();
                        Call.Target grant = grants.get(g);
                        if (grant == null) {
                            problems.add("release of a token never granted to the process: " + id);
                        } else if (!grant.key().equals(release.key())
                                || grant.kind() != release.target().kind()) {
                            problems.add("release of " + release.key() + "/"
                                    + release.target().kind() + " with the token of " + grant.key() + "/" + grant.kind()
                                    + ": " + id);
                        } else if (!released.add(g)) {
                            problems.add("token released twice: " + id);
                        }
                    }
                }
                case OK, FAIL, UNKNOWN -> {
                    Op invoke = open.remove(id);
                    if (invoke == null) {
                        problems.add((done.contains(id) ? "second completion: " : "completion without invoke: ") + id);
                        continue;
                    }
                    done.add(id);
                    completion(invoke, op, grants, problems);
                }
                case NOTICE -> {
                    notice(op, grants, problems);
                    if (open.containsKey(id) || !done.add(id)) {
                        problems.add("seq used twice: " + id);
                    }
                }
            }
        }
        open.keySet().forEach(id -> problems.add("invoke without completion: " + id));
        grants.keySet().stream()
                .filter(g -> !released.contains(g))
                .forEach(g -> problems.add("grant never given back: " + g));
        return problems;
    }

    private static void completion(Op invoke, Op done, Map<String, Call.Target> grants, List<String> problems) {
        String id = done.id();
        if (done.time() < invoke.time()) {
            problems.add("completion before its invoke: " + id);
        }
        Call call = invoke.call();
        if (!done.call().equals(call)) {
            problems.add("completion of another operation: " + id);
        }
        Result result = done.result();
        if (call instanceof Call.Acquire acquire && result instanceof Result.Granted g) {
            if (g.token() <= 0) {
                problems.add("granted without a token: " + id);
            } else {
                grants.put(done.process() + ":" + g.token(), acquire.target());
            }
        }
        if (call instanceof Call.Acquire && !(result instanceof Result.Ok) && result.why() == null) {
            problems.add("failed acquire without an error: " + id);
        }
        if (call instanceof Call.RegisterWrite write
                && result instanceof Result.Written w
                && w.newVersion() != write.expectedVersion() + 1) {
            problems.add(
                    "compare-and-set from version " + write.expectedVersion() + " wrote " + w.newVersion() + ": " + id);
        }
    }

    private static void notice(Op op, Map<String, Call.Target> grants, List<String> problems) {
        String id = op.id();
        Call call = op.call();
        if (call instanceof Call.Observed seen) {
            if (seen.epoch() < 0 || (seen.epoch() == 0 && seen.value() != null)) {
                problems.add("an observation names an epoch, and a value only with one: " + id);
            }
            return;
        }
        if (call instanceof Call.Watched w) {
            if (w.event() == null || w.position() == null || w.position().isEmpty()) {
                problems.add("a watched change names its event and its position: " + id);
            }
            return;
        }
        if (call instanceof Call.Member m) {
            boolean ofSession = Call.Member.LOST.equals(m.event()) || Call.Member.REESTABLISHED.equals(m.event());
            if (m.session() == null || (m.member() == null) != ofSession) {
                problems.add("a member notice names its session, and its member unless it is of a session: " + id);
            }
            return;
        }
        long token;
        if (call instanceof Call.Lost lost && lost.why() != null) {
            token = lost.token();
        } else if (call instanceof Call.Valid valid) {
            token = valid.token();
        } else if (call instanceof Call.Work work) {
            token = work.epoch();
        } else {
            token = 0;
        }
        if (token <= 0) {
            problems.add("a notice must be LOST with a reason, VALID or WORK, with a token: " + id);
            return;
        }
        Call.Target grant = grants.get(op.process() + ":" + token);
        if (grant == null || !grant.key().equals(call.key())) {
            problems.add("notice for a token not granted on " + call.key() + ": " + id);
        }
    }

    /** Problems with one store's log: every ENTER has its EXIT, with the token of its acquire. */
    static List<String> store(List<StoreWrite> writes, List<Op> ops) {
        List<String> problems = new ArrayList<>();
        Map<String, Long> tokens = new HashMap<>();
        for (Op op : ops) {
            if (op.isCompletion() && op.result() instanceof Result.Granted g) {
                tokens.put(op.id(), g.token());
            }
        }
        Map<String, StoreWrite> entered = new HashMap<>();
        for (StoreWrite w : writes) {
            String id = w.process() + ":" + w.seq();
            Long token = tokens.get(id);
            if (token == null || token != w.token()) {
                problems.add("store write with a token its acquire " + id + " was not granted: " + w);
            }
            if (StoreWrite.ENTER.equals(w.phase())) {
                if (entered.put(id, w) != null) {
                    problems.add("second enter for " + id);
                }
            } else if (entered.remove(id) == null) {
                problems.add("exit without enter for " + id);
            }
        }
        entered.keySet().forEach(id -> problems.add("enter without exit for " + id));
        return problems;
    }
}
