package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command;
import java.time.Duration;
import java.util.List;

/** Checks of fields shared by the conversions: a null text, bytes or list is refused with the field named. */
final class Fields {
    private Fields() {}

    static String text(String s, String field) {
        if (s == null) {
            throw new InvalidArgumentException(field + " must not be null");
        }
        return s;
    }

    static ByteString bytes(byte[] b, String field) {
        if (b == null) {
            throw new InvalidArgumentException(field + " must not be null");
        }
        return ByteString.copyFrom(b);
    }

    static <T> List<T> list(List<T> list, String field) {
        if (list == null) {
            throw new InvalidArgumentException(field + " must not be null");
        }
        return list;
    }

    /**
     * For a message whose oneof is unset: the field numbers it carries that this build does not
     * know (a newer peer's kind), as a clause to append to the refusal; "" when there are none.
     */
    static String unknown(Message m) {
        var numbers = m.getUnknownFields().asMap().keySet();
        return numbers.isEmpty()
                ? ""
                : " known to this build (it carries field " + numbers + " of "
                        + m.getDescriptorForType().getName() + ", from a newer protocol version)";
    }

    static long millis(Duration d) {
        return d == null ? 0 : d.toMillis();
    }

    static String kindOf(Command c) {
        return c == null ? "a null command" : c.getClass().getSimpleName();
    }
}
