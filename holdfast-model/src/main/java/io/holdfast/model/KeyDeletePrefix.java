package io.holdfast.model;

/**
 * Deletes the first {@code limit} keys that start with {@code prefix}, in byte order of their UTF-8,
 * in one step (protocol version 9): one page of a prefix delete. Answered {@link Reply.Ok} with how
 * many keys it deleted; fewer than {@code limit} means none is left under the prefix (the keys this
 * page did not reach stay until the next one). A client deletes a whole prefix by sending one
 * command after another until a page deletes fewer than its limit; each page is one log entry, the
 * whole is not one step.
 *
 * <p>Each key goes as a {@link KeyDelete} of any version by the same session would: attached keys
 * of any session included, each deletion told to watchers with no cause (a client deleted it). An
 * election's record is not a key and stays. While access control is on, the page is refused with
 * {@code PERMISSION_DENIED} (and deletes nothing) when the caller may not write one of its keys.
 * The prefix must not be empty (1 to 512 bytes, the rules of names) and {@code limit} is 1 to
 * 1,000: else {@code INVALID_ARGUMENT}, nothing deleted.
 */
public record KeyDeletePrefix(Command.Invocation invocation, String prefix, int limit) implements KeyCommand {
    /** The most keys one page deletes: one log entry's bound on work. */
    public static final int MAX_LIMIT = 1_000;

    @Override
    public <R> R accept(Visitor<R> visitor) {
        return visitor.keyDeletePrefix(this);
    }
}
