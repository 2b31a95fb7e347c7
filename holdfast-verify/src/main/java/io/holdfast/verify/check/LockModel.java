package io.holdfast.verify.check;

import io.holdfast.verify.history.Call;
import java.util.List;

/** An exclusive lock: a request fits only while nobody holds it. See {@link HoldModel} for the rest. */
final class LockModel extends HoldModel {
    @Override
    boolean fits(Call.Target wanted, List<Call.Target> holders) {
        return holders.isEmpty();
    }
}
