package io.holdfast.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * Writes a register if its version is {@code expectedVersion} (0: absent) and, when {@code
 * fenceName} is not null, only while {@code fenceToken} is a current grant of that lock.
 *
 * <p>{@code ownFence} says whose grant the fence may be. True (what the six-argument
 * constructor makes, so every client's write and every {@code mem:} write): the grant must be
 * held by the writing session, the invocation's; a fence copied or forged from another session
 * is refused as a conflict. False: any current grant will do, as the table checked before
 * protocol version 4. False comes only from the log: entries of type 10 (written by older
 * builds, or by this one while a member of the cluster still speaks 3 or less) keep that
 * meaning for ever, so replicas of every build apply them alike. The wire carries no flag: a
 * client cannot ask for the weaker check.
 *
 * <p>A flag rather than a second record: the two writes have the same fields, the same access
 * check, the same reply and the same path through every visitor; only the log's type byte and
 * the table's fence check tell them apart, and a new record would make every visitor (the wire,
 * the audit log, the access check) say the same thing twice.
 *
 * <p>{@code attach} and {@code ttlMillis} (protocol version 6, log type 18) say how long the
 * written key lives: attached, it belongs to the writing session and is deleted in the same
 * step as that session ends (closed, expired, or ended by an operator); with a time to live, it
 * is deleted by the first {@link Command.Tick} at or after the write's time plus {@code ttlMillis}
 * (etcd's lease, ZooKeeper's ephemeral and TTL nodes). Every write sets both afresh: a write
 * without them makes the key live until it is deleted, as a register does.
 */
public record RegisterSet(
        Command.Invocation invocation,
        String key,
        long expectedVersion,
        byte[] value,
        String fenceName,
        long fenceToken,
        boolean ownFence,
        boolean attach,
        long ttlMillis)
        implements Command.ClientCommand {
    /** A write whose fence, if any, must be the writing session's own grant. */
    public RegisterSet(
            Command.Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken) {
        this(invocation, key, expectedVersion, value, fenceName, fenceToken, true);
    }

    /** A write that lives until it is deleted: neither attached nor with a time to live. */
    public RegisterSet(
            Command.Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken,
            boolean ownFence) {
        this(invocation, key, expectedVersion, value, fenceName, fenceToken, ownFence, false, 0);
    }

    /** The same write with the check of type 10: the fence may be any session's current grant. */
    public RegisterSet withAnyFence() {
        return new RegisterSet(
                invocation, key, expectedVersion, value, fenceName, fenceToken, false, attach, ttlMillis);
    }

    /** Whether the write says how long the key lives (attached, or a time to live): log type 18. */
    public boolean leased() {
        return attach || ttlMillis != 0;
    }

    @Override
    public <R> R accept(Command.ClientVisitor<R> visitor) {
        return visitor.registerSet(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RegisterSet r
                && invocation.equals(r.invocation)
                && key.equals(r.key)
                && expectedVersion == r.expectedVersion
                && Arrays.equals(value, r.value)
                && Objects.equals(fenceName, r.fenceName)
                && fenceToken == r.fenceToken
                && ownFence == r.ownFence
                && attach == r.attach
                && ttlMillis == r.ttlMillis;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                invocation,
                key,
                expectedVersion,
                Arrays.hashCode(value),
                fenceName,
                fenceToken,
                ownFence,
                attach,
                ttlMillis);
    }

    @Override
    public String toString() {
        return "RegisterSet[invocation=" + invocation + ", key=" + key + ", expectedVersion="
                + expectedVersion + ", value=" + (value == null ? "null" : value.length + " bytes")
                + ", fenceName=" + fenceName + ", fenceToken=" + fenceToken + ", ownFence=" + ownFence
                + ", attach=" + attach + ", ttlMillis=" + ttlMillis + "]";
    }
}
