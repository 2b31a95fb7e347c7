package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import java.util.List;

/**
 * A semaphore: a request for some permits fits while the holders' permits and its own stay within
 * the limit it names. See {@link HoldModel} for the rest.
 */
final class SemaphoreModel extends HoldModel {
    @Override
    boolean fits(Call.Target wanted, List<Call.Target> holders) {
        int used = holders.stream().mapToInt(Call.Target::permits).sum();
        return used + wanted.permits() <= wanted.limit();
    }

    /** Every holder has a permit at least, and they hold at most the limit. */
    @Override
    int witnesses(Call.Target wanted) {
        return wanted.limit();
    }
}
