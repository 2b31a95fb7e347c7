package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.core.EventSink;
import io.holdfast.core.LockTable;
import io.holdfast.core.PlantedBug;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The planted bug {@code stale-txn-compare} as the real table plays it, recorded as the keys
 * workload records it and checked: two transfers that read the same versions, committed one after
 * the other. The correct table refuses the second (its compares fail) and the history passes; the
 * table with the bug commits both, and the linearizability checker names the second.
 */
class StaleTxnCompareTest {
    private static final String A = "acct/a";
    private static final String B = "acct/b";

    /** Runs the two transfers on a table with {@code bugs}, recording each call as {@code KeysWorkload} does. */
    private static H history(Set<PlantedBug> bugs) {
        LockTable table = new LockTable(bugs);
        Map<String, long[]> seqs = Map.of("c1", new long[1], "c2", new long[1]);
        for (String c : seqs.keySet()) {
            table.apply(0, new Command.OpenSession(session(c), c, 3_000, 0), EventSink.NONE);
        }
        H h = new H();
        double[] t = {0};
        Call.KeyTxn create = new Call.KeyTxn(
                List.of(KeyValue.absent(A), KeyValue.absent(B)),
                null,
                0,
                List.of(new KeyValue(A, 0, 100), new KeyValue(B, 0, 100)),
                false,
                List.of(A, B));
        run(table, h, "c1", seqs, create, t);
        Call.KeyTxn read = new Call.KeyTxn(List.of(), null, 0, List.of(), false, List.of(A, B));
        run(table, h, "c1", seqs, read, t);
        run(table, h, "c2", seqs, read, t); // both read version 1 of each account
        run(table, h, "c1", seqs, transfer(90, 110), t);
        run(table, h, "c2", seqs, transfer(80, 120), t); // still compares version 1
        run(table, h, "c1", seqs, read, t);
        return h;
    }

    private static Call.KeyTxn transfer(long a, long b) {
        return new Call.KeyTxn(
                List.of(new KeyValue(A, 1, 0), new KeyValue(B, 1, 0)),
                null,
                0,
                List.of(new KeyValue(A, 0, a), new KeyValue(B, 0, b)),
                false,
                List.of(A, B));
    }

    private static String session(String client) {
        return "session-" + client + "-0123456789";
    }

    /** Applies {@code call} as one table transaction and records it, invoked and answered in one ms. */
    private static void run(LockTable table, H h, String c, Map<String, long[]> seqs, Call.KeyTxn call, double[] t) {
        List<Transaction.Compare> compares = new ArrayList<>();
        call.compares()
                .forEach(v -> compares.add(
                        v.isAbsent()
                                ? new Transaction.Compare.Absent(v.key())
                                : new Transaction.Compare.Version(v.key(), Transaction.Order.EQUAL, v.version())));
        List<Transaction.Op> then = new ArrayList<>();
        call.puts().forEach(p -> then.add(new Transaction.Op.Put(p.key(), -1, bytes(p.value()), false, 0)));
        List<Transaction.Op> gets = call.gets().stream()
                .map(k -> (Transaction.Op) new Transaction.Op.Get(k))
                .toList();
        then.addAll(gets);
        Command.Invocation id = new Command.Invocation(session(c), ++seqs.get(c)[0], 0);
        Reply.Transacted done =
                (Reply.Transacted) table.apply(0, new Transaction(id, compares, then, gets), EventSink.NONE);
        List<KeyValue> entries = new ArrayList<>();
        int puts = done.succeeded() ? call.puts().size() : 0;
        for (int i = 0; i < done.results().size(); i++) {
            Reply.OpResult r = done.results().get(i);
            String key = i < puts ? call.puts().get(i).key() : call.gets().get(i - puts);
            long value = i < puts ? call.puts().get(i).value() : number(r.value());
            entries.add(r.version() == 0 ? KeyValue.absent(key) : new KeyValue(key, r.version(), value));
        }
        h.txn(c, t[0], call).ran(t[0] + 1, done.succeeded(), entries.toArray(KeyValue[]::new));
        t[0] += 2;
    }

    private static byte[] bytes(long n) {
        return Long.toString(n).getBytes(StandardCharsets.UTF_8);
    }

    private static long number(byte[] value) {
        return Long.parseLong(new String(value, StandardCharsets.UTF_8));
    }

    @Test
    void theCorrectTableRefusesTheSecondTransferAndItsHistoryPasses() {
        H h = history(Set.of());
        CheckResult linear = new LinearizabilityChecker().check(h.records());
        assertThat(linear.status()).as(linear.toString()).isEqualTo(Status.PASS);
        assertThat(new KeysChecker().check(h.records()).status()).isEqualTo(Status.PASS);
    }

    @Test
    void theTableWithTheBugCommitsBothAndTheCheckerNamesTheSecond() {
        H h = history(Set.of(PlantedBug.STALE_TXN_COMPARE));
        CheckResult linear = new LinearizabilityChecker().check(h.records());
        assertThat(linear.status()).isEqualTo(Status.FAIL);
        assertThat(linear.violations())
                .singleElement()
                .asString()
                .startsWith("acct/: not linearizable: c2:2 KEY_TXN acct/ OK if [acct/a@1, acct/b@1] put [acct/a=80,"
                        + " acct/b=120] get [acct/a, acct/b] then [acct/a@3=80, acct/b@3=120");
    }
}
