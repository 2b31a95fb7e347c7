package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.util.ArrayList;
import java.util.List;

public final class Checkers {
    private Checkers() {}

    public static List<Checker> all() {
        return List.of(new ReplicasChecker());
    }

    public static List<CheckResult> run(List<Record> records) {
        List<CheckResult> out = new ArrayList<>();
        for (Checker c : all()) {
            out.add(c.check(records));
        }
        return out;
    }
}
