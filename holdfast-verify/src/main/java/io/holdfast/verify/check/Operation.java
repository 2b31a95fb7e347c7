package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client operation: its invoke and its completion (null when the process died first).
 *
 * @param invoke the INVOKE event
 * @param completion the OK, FAIL or UNKNOWN event with the same process and seq, or null
 */
record Operation(Op invoke, Op completion) {

    /** The completion's type, or UNKNOWN when there is none. */
    Op.Type outcome() {
        return completion == null ? Op.Type.UNKNOWN : completion.type();
    }

    boolean ok() {
        return completion != null && completion.type() == Op.Type.OK;
    }

    /** The completion's time, or {@link Long#MAX_VALUE} when there is none. */
    long end() {
        return completion == null ? Long.MAX_VALUE : completion.time();
    }

    String key() {
        return invoke.key();
    }

    String error() {
        return completion == null ? "no completion" : completion.error();
    }

    /**
     * Pairs every INVOKE with its completion (same process and seq), in invoke order. Completions
     * without an invoke and NOTICEs are left out.
     */
    static List<Operation> pair(List<Record> records) {
        Map<String, Op> open = new HashMap<>();
        Map<String, Integer> index = new HashMap<>();
        List<Op> invokes = new ArrayList<>();
        List<Op> completions = new ArrayList<>();
        for (Record r : records) {
            if (!(r instanceof Op)) {
                continue;
            }
            Op op = (Op) r;
            if (op.type() == Op.Type.INVOKE) {
                open.put(op.id(), op);
                index.put(op.id(), invokes.size());
                invokes.add(op);
                completions.add(null);
            } else if (op.isCompletion() && open.remove(op.id()) != null) {
                completions.set(index.get(op.id()), op);
            }
        }
        List<Operation> out = new ArrayList<>(invokes.size());
        for (int i = 0; i < invokes.size(); i++) {
            out.add(new Operation(invokes.get(i), completions.get(i)));
        }
        return out;
    }

    /** A short description: "c1:12 ACQUIRE LOCK lock-0 OK token=7 [t+1.000ms..t+2.000ms]". */
    String describe(long origin) {
        Call call = invoke.call();
        StringBuilder sb = new StringBuilder().append(invoke.id()).append(' ').append(invoke.f());
        if (call instanceof Call.Acquire || call instanceof Call.Release) {
            Call.Target target = ((Call.OnLease) call).target();
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
        sb.append(' ').append(invoke.key()).append(' ').append(completion == null ? "PENDING" : outcome());
        Op c = completion;
        if (call instanceof Call.Acquire) {
            if (ok()) {
                sb.append(" token=").append(c.token());
            }
        } else if (call instanceof Call.Release release) {
            sb.append(" token=").append(release.token());
        } else if (call instanceof Call.ForeignRelease release) {
            sb.append(" token=").append(release.token());
        } else if (call instanceof Call.RegisterRead) {
            if (ok()) {
                sb.append(" version=").append(c.version()).append(" value=").append(c.value());
            }
        } else if (call instanceof Call.RegisterWrite write) {
            sb.append(" expect=")
                    .append(write.expectedVersion())
                    .append(" value=")
                    .append(write.value());
            if (ok()) {
                sb.append(" newVersion=").append(c.newVersion());
            }
        }
        if (c != null && c.error() != null) {
            sb.append(" error=").append(c.error());
        }
        sb.append(" [").append(Times.at(invoke.time(), origin)).append("..");
        sb.append(c == null ? "never" : Times.at(c.time(), origin)).append(']');
        return sb.toString();
    }
}
