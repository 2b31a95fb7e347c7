package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The search against a model that is no lock: a counter whose reads must see every earlier add. */
class SearchTest {
    /** A register write adds its value to the counter; a register read must see the counter's value. */
    private static final class Counter implements Model<Long> {
        private List<Move> moves;

        @Override
        public List<Move> moves(List<Operation> ops) {
            moves = ops.stream().filter(Operation::ok).map(Move::of).toList();
            return moves;
        }

        @Override
        public Long init() {
            return 0L;
        }

        @Override
        public Long step(Long s, int move) {
            Operation o = moves.get(move).source();
            if (o.call() instanceof Call.RegisterWrite add) {
                return s + add.value();
            }
            return ((Result.RegisterState) o.result()).value() == s ? s : null;
        }

        @Override
        public String describe(Long s) {
            return "counter " + s;
        }
    }

    private static Search.Outcome search(H h, String[] report) {
        Search<Long> search = new Search<>("k", new Counter(), Operation.pair(h.records()), 1000, 0);
        Search.Outcome out = search.run();
        report[0] = search.report();
        return out;
    }

    @Test
    void aReadOverlappingAnAddMaySeeEitherValue() {
        H h = new H();
        h.cas("c1", 0, "k", 0, 5).wrote(4, 1);
        h.get("c2", 1, "k").reads(2, 0, 0);
        h.get("c3", 3, "k").reads(5, 0, 5);
        String[] report = new String[1];
        assertThat(search(h, report)).isEqualTo(Search.Outcome.LINEARIZABLE);
    }

    @Test
    void aReadAfterAnAddThatMissesItIsNamed() {
        H h = new H();
        h.cas("c1", 0, "k", 0, 5).wrote(1, 1);
        h.get("c2", 2, "k").reads(3, 0, 0);
        String[] report = new String[1];
        assertThat(search(h, report)).isEqualTo(Search.Outcome.NOT_LINEARIZABLE);
        assertThat(report[0]).startsWith("k: not linearizable: c2:1 REG_GET").contains("state there: counter 5");
    }
}
