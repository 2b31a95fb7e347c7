package io.holdfast.protocol;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command;
import java.time.Duration;

/** Checks of fields shared by the conversions: a null text is refused with the field named. */
final class Fields {
    private Fields() {}

    static String text(String s, String field) {
        if (s == null) {
            throw new InvalidArgumentException(field + " must not be null");
        }
        return s;
    }

    static long millis(Duration d) {
        return d == null ? 0 : d.toMillis();
    }

    static String kindOf(Command c) {
        return c == null ? "a null command" : c.getClass().getSimpleName();
    }
}
