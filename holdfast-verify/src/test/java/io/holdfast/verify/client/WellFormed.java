package io.holdfast.verify.client;

import io.holdfast.verify.history.Op;
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
        Map<String, Op> grants = new HashMap<>(); // process:token -> acquire OK
        Set<String> released = new HashSet<>();
        for (Op op : ops) {
            String id = op.id();
            switch (op.type()) {
                case INVOKE -> {
                    if (open.containsKey(id) || done.contains(id)) {
                        problems.add("seq used twice: " + id);
                    }
                    open.put(id, op);
                    if (op.f() == Op.Fn.RELEASE) {
                        String g = op.process() + ":" + op.token();
                        Op grant = grants.get(g);
                        if (grant == null) {
                            problems.add("release of a token never granted to the process: " + id);
                        } else if (!grant.key().equals(op.key()) || grant.kind() != op.kind()) {
                            problems.add("release of " + op.key() + "/" + op.kind() + " with the token of "
                                    + grant.key() + "/" + grant.kind() + ": " + id);
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
                    if (op.time() < invoke.time()) {
                        problems.add("completion before its invoke: " + id);
                    }
                    if (op.f() != invoke.f() || !invoke.key().equals(op.key())) {
                        problems.add("completion of another operation: " + id);
                    }
                    if (op.type() == Op.Type.OK && op.f() == Op.Fn.ACQUIRE) {
                        if (op.token() <= 0) {
                            problems.add("granted without a token: " + id);
                        } else {
                            grants.put(op.process() + ":" + op.token(), op);
                        }
                    }
                    if (op.type() != Op.Type.OK && op.f() == Op.Fn.ACQUIRE && op.error() == null) {
                        problems.add("failed acquire without an error: " + id);
                    }
                    if (op.f() == Op.Fn.RELEASE && op.token() != invoke.token()) {
                        problems.add("release completed with another token: " + id);
                    }
                    if (op.type() == Op.Type.OK && op.f() == Op.Fn.REG_CAS && op.newVersion() != op.version() + 1) {
                        problems.add("compare-and-set from version " + op.version() + " wrote " + op.newVersion() + ": "
                                + id);
                    }
                }
                case NOTICE -> {
                    boolean lost = op.f() == Op.Fn.LOST && op.error() != null;
                    boolean valid = op.f() == Op.Fn.VALID && op.error() == null;
                    boolean work = op.f() == Op.Fn.WORK && op.error() == null;
                    if (op.f() == Op.Fn.OBSERVED) {
                        if (op.token() < 0 || (op.token() == 0 && op.text() != null)) {
                            problems.add("an observation names an epoch, and a value only with one: " + id);
                        }
                    } else if (!(lost || valid || work) || op.token() <= 0) {
                        problems.add("a notice must be LOST with a reason, VALID or WORK, with a token: " + id);
                    } else {
                        Op grant = grants.get(op.process() + ":" + op.token());
                        if (grant == null || !grant.key().equals(op.key())) {
                            problems.add("notice for a token not granted on " + op.key() + ": " + id);
                        }
                    }
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

    /** Problems with one store's log: every ENTER has its EXIT, with the token of its acquire. */
    static List<String> store(List<StoreWrite> writes, List<Op> ops) {
        List<String> problems = new ArrayList<>();
        Map<String, Long> tokens = new HashMap<>();
        for (Op op : ops) {
            if (op.f() == Op.Fn.ACQUIRE && op.type() == Op.Type.OK) {
                tokens.put(op.id(), op.token());
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
