package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import java.util.List;

/** An exclusive lock: a request fits only while nobody holds it. See {@link HoldModel} for the rest. */
final class LockModel extends HoldModel {
    @Override
    boolean fits(Op wanted, List<Op> holders) {
        return holders.isEmpty();
    }
}
