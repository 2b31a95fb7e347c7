package io.holdfast.verify.check;

import io.holdfast.verify.history.Record;
import java.util.List;

public interface Checker {
    String name();

    CheckResult check(List<Record> records);
}
