package io.holdfast.model;

import io.holdfast.PutOptions.Lifetime;
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
 * <p>{@code lifetime} and {@code ttlMillis} say how long the written key lives. {@link
 * Lifetime#ATTACH} (protocol version 6, log type 18): it belongs to the writing session and is
 * deleted in the same step as that session ends (closed, expired, or ended by an operator). With a
 * time to live (type 18 too), it is deleted by the first {@link Command.Tick} at or after the
 * write's time plus {@code ttlMillis} (etcd's lease, ZooKeeper's ephemeral and TTL nodes). {@link
 * Lifetime#DETACH}: attached to no session, what every entry of types 10 and 16 means and what a
 * write of type 18 that does not attach means. {@link Lifetime#KEEP} (protocol version 8, log type
 * 23, never with a time to live): the key keeps its owner and deadline, whoever writes it; a key
 * that was absent lives until deleted. The constructors without a lifetime make {@link
 * Lifetime#DETACH}, the meaning those writes had before version 8; a client's plain put is made
 * {@link Lifetime#KEEP} where it is decoded.
 */
public record RegisterSet(
        Command.Invocation invocation,
        String key,
        long expectedVersion,
        byte[] value,
        String fenceName,
        long fenceToken,
        boolean ownFence,
        Lifetime lifetime,
        long ttlMillis)
        implements Command.ClientCommand {
    public RegisterSet {
        if (lifetime == null) {
            throw new io.holdfast.InvalidArgumentException("a write's lifetime must not be null");
        }
    }

    /** A write attached to the writing session ({@code attach}) or else detached, as type 18 says. */
    public RegisterSet(
            Command.Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken,
            boolean ownFence,
            boolean attach,
            long ttlMillis) {
        this(
                invocation,
                key,
                expectedVersion,
                value,
                fenceName,
                fenceToken,
                ownFence,
                attach ? Lifetime.ATTACH : Lifetime.DETACH,
                ttlMillis);
    }

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

    /** A write that detaches the key: it lives until it is deleted (the meaning of types 10 and 16). */
    public RegisterSet(
            Command.Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken,
            boolean ownFence) {
        this(invocation, key, expectedVersion, value, fenceName, fenceToken, ownFence, Lifetime.DETACH, 0);
    }

    /**
     * A client's register write ({@code VersionedRegister}, {@code POST /api/v1/registers/set}): its
     * fence, if any, the writing session's own grant, and the key's lifetime kept.
     */
    public static RegisterSet keeping(
            Command.Invocation invocation,
            String key,
            long expectedVersion,
            byte[] value,
            String fenceName,
            long fenceToken) {
        return new RegisterSet(invocation, key, expectedVersion, value, fenceName, fenceToken, true, Lifetime.KEEP, 0);
    }

    /** Whether the write attaches the key to the writing session. */
    public boolean attach() {
        return lifetime == Lifetime.ATTACH;
    }

    /** Whether the write keeps the key's lifetime (log type 23). */
    public boolean keeps() {
        return lifetime == Lifetime.KEEP;
    }

    /** The same write with another lifetime (a mixed cluster logs a keeping write as a detaching one). */
    public RegisterSet withLifetime(Lifetime other) {
        return new RegisterSet(
                invocation, key, expectedVersion, value, fenceName, fenceToken, ownFence, other, ttlMillis);
    }

    /** The same write with the check of type 10: the fence may be any session's current grant. */
    public RegisterSet withAnyFence() {
        return new RegisterSet(
                invocation, key, expectedVersion, value, fenceName, fenceToken, false, lifetime, ttlMillis);
    }

    /** Whether the write attaches the key or gives it a time to live: log type 18. */
    public boolean leased() {
        return lifetime == Lifetime.ATTACH || ttlMillis != 0;
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
                && lifetime == r.lifetime
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
                lifetime,
                ttlMillis);
    }

    @Override
    public String toString() {
        return "RegisterSet[invocation=" + invocation + ", key=" + key + ", expectedVersion="
                + expectedVersion + ", value=" + (value == null ? "null" : value.length + " bytes")
                + ", fenceName=" + fenceName + ", fenceToken=" + fenceToken + ", ownFence=" + ownFence
                + ", lifetime=" + lifetime + ", ttlMillis=" + ttlMillis + "]";
    }
}
