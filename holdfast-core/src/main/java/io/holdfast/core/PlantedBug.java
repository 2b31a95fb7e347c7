package io.holdfast.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Bugs planted on purpose, for verification only: the verification harness switches them on in
 * the server processes it starts, to prove that its checkers can fail. Every one breaks a
 * guarantee of the service; none is reachable from a client request or from the {@code holdfast
 * server} command line (only {@code HoldfastServer.start(config, bugs)} and {@link
 * LockTable#LockTable(java.util.Set)} take them).
 *
 * <p>Every replica of a cluster must be started with the same set: the table stays deterministic
 * given the set, not across different sets.
 */
public enum PlantedBug {
    /**
     * The leader answers an acquire from its local table when the lock looks free there, with a
     * token it makes up, and only then submits the command to the log in the background. An
     * isolated leader grants a lock that the majority also grants to someone else.
     */
    GRANT_WITHOUT_QUORUM("the leader grants a lock that looks free locally before the log commits the acquire"),
    /** Fencing tokens are the Raft term of the granting entry: grants in one term share a token. */
    TOKEN_FROM_TERM("fencing tokens are the Raft term, not a counter: grants in one term share a token"),
    /** A release frees the named lock whoever asks: the caller need not hold it. */
    RELEASE_BY_ANYONE("a release frees the named lock's holder even if another session asks"),
    /** A release frees the lock but does not grant the head waiter. */
    SKIPPED_WAKEUP("a release frees the lock but does not wake the head waiter"),
    /**
     * When a session expires with queued waits, its waits stay queued and can be granted later to
     * the dead session (as in etcd issue 11456).
     */
    GRANT_AFTER_EXPIRY("an expired session's queued waits stay queued and are granted to the dead session"),
    /** The table forgets invocation ids: a retried command is applied again. */
    RETRY_APPLIED_TWICE("a retried command (same session and seq) is applied a second time"),
    /**
     * A release that the leader could not replicate (it was stepping down or handing its
     * leadership over) is answered as done. The lock stays with the session, whose client believes
     * it gave it back and stops sending the release: nobody else gets the lock while the session
     * lives.
     */
    RELEASE_LOST_ON_STEP_DOWN("a release refused because the leader steps down is answered as done"),
    /**
     * A member that catches up from a snapshot the leader sends it (a new member, or one too far
     * behind a purged log) moves its applied index to the snapshot's but keeps its own table: a new
     * member then applies the rest of the log to an empty table.
     */
    SENT_SNAPSHOT_IGNORED(
            "a member that catches up from the leader's snapshot keeps its own table, not the snapshot's"),
    /**
     * A queued multi-lock is granted as soon as one of its queues has room for it, whatever holds
     * its other names: it gets locks that others hold.
     */
    MULTI_LOCK_PARTIAL_GRANT("a queued multi-lock is granted when one of its locks is free, not all of them"),
    /**
     * A transaction's compare of a key's version for equality also holds for the version the key
     * had before its last write, as a compare read from a copy one write behind would: two
     * transactions that read the same versions both commit, and the second overwrites the first.
     */
    STALE_TXN_COMPARE("a transaction's version compare also holds for the version before the key's last write"),
    /**
     * A member that does not lead acknowledges its clients' held heartbeats itself when the round
     * that carried them to the leader fails, or when it has no leader (ADR 0003 forbids it): a
     * member cut off from the majority keeps its clients counting on TTLs that no leader knows of,
     * while the majority expires their sessions and hands their locks on.
     */
    FOLLOWER_EXTENDS_TTL("a member acknowledges held heartbeats itself when its round to the leader fails"),
    /**
     * A put that attaches a key another session owns (to the writer's session, or leased to a
     * third) leaves the key with the session that owned it: a group member joined again under a
     * new session, moving its key from its lost session, still goes when the lost session expires.
     */
    REJOIN_KEEPS_DEAD_SESSION("a put attaching a key another session owns keeps that session as the key's owner");

    private final String description;

    PlantedBug(String description) {
        this.description = description;
    }

    /** The name used on command lines: the constant in lower case with dashes, e.g. {@code token-from-term}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** What the bug does, in one line. */
    public String description() {
        return description;
    }

    /**
     * The bug with this {@link #cliName()} (the enum constant's name is accepted too).
     *
     * @throws IllegalArgumentException naming the known bugs if there is none
     */
    public static PlantedBug byName(String name) {
        List<String> known = new ArrayList<>();
        for (PlantedBug b : values()) {
            if (b.cliName().equals(name) || b.name().equals(name)) {
                return b;
            }
            known.add(b.cliName());
        }
        throw new IllegalArgumentException("unknown planted bug '" + name + "'; known: " + String.join(", ", known));
    }
}
