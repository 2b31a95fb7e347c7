package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import io.holdfast.verify.history.Result;
import io.holdfast.verify.history.StoreWrite;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The workload test's checks, shown to catch what they claim to catch. */
class WellFormedTest {
    private static final String P = "workload";
    private static final Call.Target LOCK_0 = Call.Target.lock("lock-0");

    private static Op acquire(long seq, long t) {
        return Op.of("c1", seq, t, P, new Call.Acquire(LOCK_0, false, 500));
    }

    private static Op release(long seq, long t, long token) {
        return Op.of("c1", seq, t, P, new Call.Release(LOCK_0, token));
    }

    private static List<Op> good() {
        List<Op> ops = new ArrayList<>();
        ops.add(acquire(1, 10));
        ops.add(acquire(1, 10).complete(20, new Result.Granted(7)));
        ops.add(Op.of("c1", 2, 25, P, new Call.Lost(LOCK_0, 7, "LOCK_LOST: revoked")));
        ops.add(release(3, 30, 7));
        ops.add(release(3, 30, 7).complete(40, new Result.Refused(Result.Refused.LOST)));
        ops.add(Op.of("c1", 4, 50, P, new Call.RegisterWrite("reg-0", 3, 9)));
        ops.add(Op.of("c1", 4, 50, P, new Call.RegisterWrite("reg-0", 3, 9)).complete(60, new Result.Written(4)));
        return ops;
    }

    private static List<StoreWrite> writes(long token) {
        return List.of(
                new StoreWrite(21, StoreWrite.FENCED, "lock-0", token, "c1", 1, StoreWrite.ENTER, true, 0),
                new StoreWrite(22, StoreWrite.FENCED, "lock-0", token, "c1", 1, StoreWrite.EXIT, true, 7));
    }

    @Test
    void aGoodHistoryPasses() {
        assertThat(WellFormed.ops(good())).isEmpty();
        assertThat(WellFormed.store(writes(7), good())).isEmpty();
    }

    @Test
    void aMissingOrSecondCompletionIsFound() {
        List<Op> missing = good();
        missing.remove(6);
        assertThat(WellFormed.ops(missing)).anyMatch(p -> p.startsWith("invoke without completion"));
        List<Op> twice = good();
        twice.add(twice.get(6));
        assertThat(WellFormed.ops(twice)).anyMatch(p -> p.startsWith("second completion"));
    }

    @Test
    void aGrantWithoutTokenOrAReleaseWithAnotherTokenIsFound() {
        List<Op> noToken = good();
        noToken.set(1, acquire(1, 10).complete(20, new Result.Granted(0)));
        assertThat(WellFormed.ops(noToken)).anyMatch(p -> p.startsWith("granted without a token"));
        List<Op> wrongToken = good();
        wrongToken.set(3, release(3, 30, 8));
        wrongToken.set(4, release(3, 30, 8).complete(40, new Result.Released()));
        assertThat(WellFormed.ops(wrongToken)).anyMatch(p -> p.startsWith("release of a token never granted"));
    }

    @Test
    void aGrantNeverGivenBackOrABadNoticeIsFound() {
        List<Op> kept = good();
        kept.remove(4);
        kept.remove(3);
        assertThat(WellFormed.ops(kept)).anyMatch(p -> p.startsWith("grant never given back"));
        List<Op> badNotice = good();
        badNotice.set(2, Op.of("c1", 2, 25, P, new Call.Lost(Call.Target.lock("lock-1"), 7, "x")));
        assertThat(WellFormed.ops(badNotice)).anyMatch(p -> p.startsWith("notice for a token not granted"));
    }

    @Test
    void aBadCompareAndSetIsFound() {
        List<Op> cas = good();
        cas.set(6, cas.get(5).complete(60, new Result.Written(5)));
        assertThat(WellFormed.ops(cas)).anyMatch(p -> p.startsWith("compare-and-set from version 3 wrote 5"));
    }

    @Test
    void anEnterWithoutExitOrAWrongTokenIsFound() {
        assertThat(WellFormed.store(writes(7).subList(0, 1), good())).anyMatch(p -> p.startsWith("enter without exit"));
        assertThat(WellFormed.store(writes(6), good())).anyMatch(p -> p.startsWith("store write with a token"));
    }
}
