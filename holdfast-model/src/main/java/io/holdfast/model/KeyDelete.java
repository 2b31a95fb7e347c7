package io.holdfast.model;

/**
 * Deletes a key (protocol version 6) if its version is {@code expectedVersion}, or whatever its
 * version when that is {@link #ANY_VERSION}. Answered {@link Reply.Ok} with the version the key
 * had (0: it was absent, which an unconditional delete does not refuse), or {@link
 * Reply.Failed} {@code CONFLICT} with the key's version. A delete drops the key's version: a
 * key written again starts at version 1.
 */
public record KeyDelete(Command.Invocation invocation, String key, long expectedVersion) implements KeyCommand {
    /** An expected version that any version matches. */
    public static final long ANY_VERSION = -1;

    @Override
    public <R> R accept(Visitor<R> visitor) {
        return visitor.keyDelete(this);
    }
}
