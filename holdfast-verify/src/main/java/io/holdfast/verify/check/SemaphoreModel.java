package io.holdfast.verify.check;

import io.holdfast.verify.history.Op;
import java.util.List;

/**
 * A semaphore: a request for some permits fits while the holders' permits and its own stay within
 * the limit it names. See {@link HoldModel} for the rest.
 */
final class SemaphoreModel extends HoldModel {
    @Override
    boolean fits(Op wanted, List<Op> holders) {
        int used = holders.stream().mapToInt(Op::permits).sum();
        return used + wanted.permits() <= wanted.limit();
    }
}
