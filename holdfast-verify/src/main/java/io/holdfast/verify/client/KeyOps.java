package io.holdfast.verify.client;

import io.holdfast.KeyEntry;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.WatchEvent;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The recorded key operations of one process, as {@link Ops} records locks: each call is an invoke,
 * the call through {@link LockClient#keys()}, and exactly one completion. Values are whole numbers
 * in decimal UTF-8 ({@link Ops#encode}); a value that is not one reads as -1. A read that fails is
 * {@code Unknown}; a transaction refused for a version ({@code ConflictException}) is {@code
 * Refused(CONFLICT)} and changed nothing, any other failure {@code Unknown}: it may have run. Calls
 * are bounded by the client's own request timeout.
 */
final class KeyOps {
    private final Recorder rec;

    KeyOps(Recorder rec) {
        this.rec = rec;
    }

    /** Reads {@code key}: {@link Result.KeyState} with one entry (version 0 when absent), or why not. */
    Result get(String phase, LockClient client, String key) {
        Op invoke = rec.record(phase, new Call.KeyGet(key));
        try {
            Optional<KeyEntry> e = client.keys().get(key);
            return rec.complete(
                    invoke, new Result.KeyState(List.of(e.map(KeyOps::of).orElse(KeyValue.absent(key)))));
        } catch (RuntimeException e) {
            return rec.complete(invoke, Outcomes.ofRead(e));
        }
    }

    /** Lists the keys under {@code prefix} (one page): {@link Result.KeyState}, or why not. */
    Result list(String phase, LockClient client, String prefix) {
        Op invoke = rec.record(phase, new Call.KeyList(prefix));
        try {
            List<KeyValue> seen = client.keys().list(prefix).entries().stream()
                    .map(KeyOps::of)
                    .toList();
            return rec.complete(invoke, new Result.KeyState(seen));
        } catch (RuntimeException e) {
            return rec.complete(invoke, Outcomes.ofRead(e));
        }
    }

    /**
     * Commits {@code call} as one {@link Txn}: version compares for equality (0: absent), a fence
     * on {@code fence} when given (its lock and token must be the call's), then the puts and the
     * gets, else the gets.
     */
    Result txn(String phase, LockClient client, Call.KeyTxn call, Lease fence) {
        Op invoke = rec.record(phase, call);
        try {
            List<Txn.Compare> compares = new ArrayList<>();
            if (fence != null) {
                compares.add(Txn.fence(fence));
            }
            call.compares().forEach(c -> compares.add(Txn.version(c.key(), Txn.Order.EQUAL, c.version())));
            List<Txn.Op> then = new ArrayList<>();
            // a put that is not attached detaches, as the model has it (a plain put would keep an attachment)
            PutOptions options = call.attached()
                    ? PutOptions.any().attach()
                    : PutOptions.any().detach();
            call.puts().forEach(p -> then.add(Txn.put(p.key(), Ops.encode(p.value()), options)));
            List<Txn.Op> gets = call.gets().stream().map(Txn::get).toList();
            then.addAll(gets);
            TxnResult done = client.keys().commit(new Txn(compares, then, gets));
            List<KeyValue> entries = new ArrayList<>();
            int puts = done.succeeded() ? call.puts().size() : 0;
            for (int i = 0; i < done.results().size(); i++) {
                TxnResult.OpResult r = done.results().get(i);
                if (i < puts) {
                    KeyValue p = call.puts().get(i);
                    entries.add(new KeyValue(p.key(), r.version(), p.value()));
                } else {
                    String key = call.gets().get(i - puts);
                    entries.add(
                            r.version() == 0
                                    ? KeyValue.absent(key)
                                    : new KeyValue(key, r.version(), Ops.decode(r.value())));
                }
            }
            return rec.complete(invoke, new Result.Transacted(done.succeeded(), entries));
        } catch (RuntimeException e) {
            return rec.complete(invoke, Outcomes.ofCas(e));
        }
    }

    /**
     * Puts {@code value} to {@code key} whatever its version, owned by the session {@code lease}
     * (null: none): {@link Result.KeyState} with the key as written, {@code Refused(CONFLICT)} when
     * the lease is no open session, or {@code Unknown}.
     */
    Result put(String phase, LockClient client, String key, long value, String lease) {
        Op invoke = rec.record(phase, new Call.KeyPut(key, value, lease));
        try {
            PutOptions how =
                    lease == null ? PutOptions.any().detach() : PutOptions.any().lease(lease);
            KeyEntry e = client.keys().put(key, Ops.encode(value), how);
            return rec.complete(invoke, new Result.KeyState(List.of(of(e))));
        } catch (RuntimeException e) {
            return rec.complete(invoke, Outcomes.ofCas(e));
        }
    }

    /** Deletes every key under {@code prefix}: {@link Result.KeyState} with no entries, or {@code Unknown}. */
    Result deletePrefix(String phase, LockClient client, String prefix) {
        Op invoke = rec.record(phase, new Call.KeyDeletePrefix(prefix));
        try {
            client.keys().deletePrefix(prefix);
            return rec.complete(invoke, new Result.KeyState(List.of()));
        } catch (RuntimeException e) {
            // a page may have gone before the failure: never Refused, which would say nothing changed
            return rec.complete(invoke, new Result.Unknown(Outcomes.errorName(e)));
        }
    }

    /** Closes {@code client}, whose session is {@code session}, recording when the close returned. */
    void close(String phase, LockClient client, String session) {
        Op invoke = rec.record(phase, new Call.SessionClose(session));
        client.close();
        rec.complete(invoke, new Result.Released());
    }

    /** Records a group membership event ({@link Call.Member}). */
    void member(String phase, String event, String member, String session, long version) {
        rec.record(phase, new Call.Member(event, member, session, version));
    }

    /** Records what a watch reported (a STATE is left out: it is no change). */
    void watched(String phase, WatchEvent e) {
        if (e.type() == WatchEvent.Type.STATE) {
            return;
        }
        rec.record(
                phase,
                new Call.Watched(
                        e.name(),
                        e.type().name(),
                        e.sessionId(),
                        e.fencingToken(),
                        e.version(),
                        e.cause() == null ? null : e.cause().name(),
                        e.position()));
    }

    private static KeyValue of(KeyEntry e) {
        return new KeyValue(e.key(), e.version(), Ops.decode(e.value()), e.owner());
    }
}
