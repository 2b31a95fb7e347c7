package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client operation: what was asked ({@link Call}) and what was answered ({@link Result}), by
 * whom and between which times. An operation whose process died before its completion has the
 * result {@link #NO_COMPLETION} and no end ({@link Long#MAX_VALUE}).
 *
 * @param process the client process
 * @param seq the operation's number within its process
 * @param phase the phase it was invoked in ("workload", "final")
 * @param call what was asked
 * @param start when it was invoked
 * @param result what was answered
 * @param end when it was answered, or {@link Long#MAX_VALUE} when it never was
 */
record Operation(String process, long seq, String phase, Call call, long start, Result result, long end) {

    /** The result of an operation without completion: it may have taken effect, or not. */
    static final Result.Unknown NO_COMPLETION = new Result.Unknown("no completion");

    /** The request id: process and seq. */
    String id() {
        return process + ":" + seq;
    }

    String key() {
        return call.key();
    }

    /** Whether the operation succeeded. */
    boolean ok() {
        return result instanceof Result.Ok;
    }

    /** Whether a completion was recorded. */
    boolean completed() {
        return end != Long.MAX_VALUE;
    }

    /** Whether the outcome is unknown: UNKNOWN, or no completion. */
    boolean unknown() {
        return result instanceof Result.Unknown;
    }

    /** Why it failed or its outcome is unknown; null for a success. */
    String error() {
        return result.why();
    }

    /** The token an acquire was granted, or {@link Long#MIN_VALUE} when it was not. */
    long token() {
        return result instanceof Result.Granted g ? g.token() : Long.MIN_VALUE;
    }

    /** What a lease operation is held on, or null for another call. */
    Call.Target target() {
        return call instanceof Call.OnLease lease ? lease.target() : null;
    }

    /**
     * Pairs every INVOKE with its completion (same process and seq), in invoke order. Completions
     * without an invoke and NOTICEs are left out.
     */
    static List<Operation> pair(List<Record> records) {
        Map<String, Integer> open = new HashMap<>();
        List<Op> invokes = new ArrayList<>();
        List<Op> completions = new ArrayList<>();
        for (Record r : records) {
            if (!(r instanceof Op op)) {
                continue;
            }
            if (op.type() == Op.Type.INVOKE) {
                open.put(op.id(), invokes.size());
                invokes.add(op);
                completions.add(null);
            } else if (op.isCompletion()) {
                Integer i = open.remove(op.id());
                if (i != null) {
                    completions.set(i, op);
                }
            }
        }
        List<Operation> out = new ArrayList<>(invokes.size());
        for (int i = 0; i < invokes.size(); i++) {
            Op in = invokes.get(i);
            Op done = completions.get(i);
            out.add(new Operation(
                    in.process(),
                    in.seq(),
                    in.phase(),
                    in.call(),
                    in.time(),
                    done == null ? NO_COMPLETION : done.result(),
                    done == null ? Long.MAX_VALUE : done.time()));
        }
        return out;
    }

    /** A short description: "c1:12 ACQUIRE LOCK lock-0 OK token=7 [t+1.000ms..t+2.000ms]". */
    String describe(long origin) {
        StringBuilder sb = new StringBuilder().append(id()).append(' ').append(name(call));
        if (call instanceof Call.Acquire || call instanceof Call.Release) {
            Call.Target target = target();
            sb.append(' ').append(target.kind());
            if (target.kind() == Op.Kind.SEMAPHORE) {
                sb.append('(')
                        .append(target.permits())
                        .append('/')
                        .append(target.limit())
                        .append(')');
            }
            if (call instanceof Call.Acquire acquire && acquire.tryOnly()) {
                sb.append(" try");
            }
        }
        String named = call instanceof Call.KeyGet g
                ? g.name()
                : call instanceof Call.KeyList l
                        ? l.prefix() + "*"
                        : call instanceof Call.KeyPut p
                                ? p.name() + "=" + p.value() + (p.lease() == null ? "" : " lease " + p.lease())
                                : call instanceof Call.KeyDeletePrefix d ? d.prefix() + "*" : key();
        sb.append(' ').append(named).append(' ').append(completed() ? result.type() : "PENDING");
        if (call instanceof Call.Release release) {
            sb.append(" token=").append(release.token());
        } else if (call instanceof Call.ForeignRelease release) {
            sb.append(" token=").append(release.token());
        } else if (call instanceof Call.RegisterWrite write) {
            sb.append(" expect=")
                    .append(write.expectedVersion())
                    .append(" value=")
                    .append(write.value());
        } else if (call instanceof Call.KeyTxn txn) {
            sb.append(" if ")
                    .append(txn.compares().stream()
                            .map(c -> c.key() + "@" + c.version())
                            .toList());
            if (txn.fenceLock() != null) {
                sb.append(" fence ").append(txn.fenceLock()).append('/').append(txn.fenceToken());
            }
            sb.append(" put ")
                    .append(txn.puts().stream()
                            .map(p -> p.key() + "=" + p.value())
                            .toList())
                    .append(txn.attached() ? " attached" : "");
            sb.append(" get ").append(txn.gets());
        }
        if (result instanceof Result.Granted g) {
            sb.append(" token=").append(g.token());
        } else if (result instanceof Result.RegisterState s) {
            sb.append(" version=").append(s.version()).append(" value=").append(s.value());
        } else if (result instanceof Result.Written w) {
            sb.append(" newVersion=").append(w.newVersion());
        } else if (result instanceof Result.KeyState k) {
            sb.append(" saw ").append(k.entries());
        } else if (result instanceof Result.Transacted t) {
            sb.append(t.succeeded() ? " then " : " else ").append(t.entries());
        } else if (completed() && result.why() != null) {
            sb.append(" error=").append(result.why());
        }
        sb.append(" [").append(Times.at(start, origin)).append("..");
        sb.append(completed() ? Times.at(end, origin) : "never").append(']');
        return sb.toString();
    }

    /** How a report names the kind of call: the name it has in the history ("ACQUIRE", "REG_CAS"). */
    static String name(Call call) {
        return Op.of("", 0, 0, "", call).f().name();
    }
}
