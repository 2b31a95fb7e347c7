package io.holdfast.model;

/**
 * Adds {@code delta} to the key's counter and answers the new value ({@link Reply.Counted}),
 * in one step (protocol version 6). A counter is a key whose value is exactly 8 bytes, a signed
 * 64-bit integer, big-endian (two's complement); an absent key counts as 0 and is created.
 * Refused with {@code INVALID_ARGUMENT} when the value is not a counter, and when the sum would
 * overflow. The key's lifetime (attached, time to live) stays as it was.
 */
public record CounterAdd(Command.Invocation invocation, String key, long delta) implements KeyCommand {
    @Override
    public <R> R accept(Visitor<R> visitor) {
        return visitor.counterAdd(this);
    }
}
