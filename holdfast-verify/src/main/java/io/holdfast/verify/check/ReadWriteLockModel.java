package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Op;
import java.util.List;

/**
 * A read-write lock: a WRITE request fits only while nobody holds it, a READ request while nobody
 * holds it for writing. See {@link HoldModel} for the rest.
 */
final class ReadWriteLockModel extends HoldModel {
    @Override
    boolean fits(Call.Target wanted, List<Call.Target> holders) {
        if (wanted.kind() == Op.Kind.WRITE) {
            return holders.isEmpty();
        }
        return holders.stream().allMatch(h -> h.kind() == Op.Kind.READ);
    }
}
