package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.Capability;
import io.holdfast.KeyEntry;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchEvent.Cause;
import io.holdfast.WatchEvent.Type;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How long a key lives ({@link Capability#SESSION_KEYS}, {@link Capability#KEY_TTL}): attached to a
 * session, it goes in the same step as the session ends, and watchers are told why; with a time to
 * live, when that passes; and a put that names no lifetime keeps the key's, whoever writes it
 * ({@link PutOptions.Lifetime#KEEP}).
 */
abstract class KeyLifetimeContract extends ContractSupport {
    KeyLifetimeContract(LockProviderContract suite) {
        super(suite);
    }

    private static byte[] bytes(String s) {
        return KeyContract.bytes(s);
    }

    /**
     * Watches {@code dir}, whose state must hold {@code present} keys, runs {@code action}, and
     * expects the deletion of {@code key} for {@code cause} within {@code within}; then the key is
     * absent.
     */
    private void expectDeletion(String dir, int present, Runnable action, String key, Cause cause, Duration within)
            throws InterruptedException {
        WatchContract.Recorded seen = new WatchContract.Recorded();
        try (Watch ignored = observer().keys().watch(dir, seen)) {
            assertThat(seen.next().keys()).hasSize(present);
            action.run();
            WatchEvent deleted = seen.events.poll(within.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(deleted)
                    .as("the deletion of " + key + " within " + within)
                    .isNotNull();
            assertThat(deleted.type()).isEqualTo(Type.REGISTER_DELETED);
            assertThat(deleted.name()).isEqualTo(key);
            assertThat(deleted.cause()).isIn(has(Capability.WATCH) ? List.of(cause) : List.of(cause, Cause.UNKNOWN));
        }
        assertThat(observer().keys().get(key)).isEmpty();
    }

    @Test
    void anAttachedKeyIsDeletedWhenItsSessionClosesAndWatchersAreToldWhy() throws Exception {
        assumeCapability(Capability.KEYS, Capability.SESSION_KEYS);
        LockClient member = open();
        String dir = name("group/");
        KeyEntry mine = member.keys()
                .put(dir + "m1", bytes("10.0.0.1"), PutOptions.any().attach());
        assertThat(mine.owner()).isEqualTo(member.sessionId());
        assertThat(observer().keys().get(dir + "m1").orElseThrow().owner()).isEqualTo(member.sessionId());
        expectDeletion(dir, 1, member::close, dir + "m1", Cause.SESSION_CLOSED, PROMPTLY);
    }

    /**
     * A put that names no lifetime keeps the key's (ZooKeeper's {@code setData} on an ephemeral
     * node): written again by its owner, then by another session, the key stays attached to its
     * owner and goes when the owner's session ends (issue 70: it used to stay for ever).
     */
    @Test
    void aPutThatNamesNoLifetimeKeepsTheKeyAttachedWhoeverWritesIt() throws Exception {
        assumeCapability(Capability.KEYS, Capability.SESSION_KEYS);
        LockClient member = open();
        String dir = name("kept/");
        String key = dir + "m1";
        member.keys().put(key, bytes("one"), PutOptions.any().attach());
        member.keys().put(key, bytes("two"));
        assertThat(observer().keys().get(key).orElseThrow().owner())
                .as("written again by its owner without a lifetime")
                .isEqualTo(member.sessionId());
        observer().keys().put(key, bytes("three"), PutOptions.ifVersion(2));
        KeyEntry now = observer().keys().get(key).orElseThrow();
        assertThat(now.owner()).as("written by another session").isEqualTo(member.sessionId());
        assertThat(now.text()).isEqualTo("three");
        expectDeletion(dir, 1, member::close, key, Cause.SESSION_CLOSED, PROMPTLY);
    }

    /**
     * A key put on another session's lease ({@link PutOptions#lease}, ADR 0006) is that session's:
     * its writer's end leaves it, the lease's end takes it, and watchers are told why.
     */
    @Test
    void aKeyOnAnotherSessionsLeaseGoesWithTheLeaseNotItsWriter() throws Exception {
        assumeCapability(Capability.KEYS, Capability.SHARED_LEASES);
        LockClient lease = open();
        LockClient writer = open();
        String dir = name("leased/");
        KeyEntry written =
                writer.keys().put(dir + "m1", bytes("up"), PutOptions.any().lease(lease.sessionId()));
        assertThat(written.owner()).isEqualTo(lease.sessionId());
        writer.close();
        assertThat(observer().keys().get(dir + "m1").orElseThrow().owner())
                .as("its writer's end leaves it")
                .isEqualTo(lease.sessionId());
        expectDeletion(dir, 1, lease::close, dir + "m1", Cause.SESSION_CLOSED, PROMPTLY);
    }

    @Test
    void anAttachedKeyIsDeletedWhenItsSessionExpires() throws Exception {
        assumeCapability(Capability.KEYS, Capability.SESSION_KEYS);
        LockClient member = openShortLived();
        String dir = name("group/");
        member.keys().put(dir + "m1", bytes("up"), PutOptions.any().attach());
        expectDeletion(dir, 1, () -> crash(member), dir + "m1", Cause.SESSION_EXPIRED, expiryBound());
    }

    @Test
    void aKeyWithATimeToLiveIsDeletedWhenItPasses() throws Exception {
        assumeCapability(Capability.KEYS, Capability.KEY_TTL);
        Keys keys = open().keys();
        String dir = name("ttl/");
        // the kept key first, and the short one a TTL of 3 s beyond the least: its deletion is
        // watched for, so the watch's first state must still hold it (with the least TTL, 1 s, it
        // had gone before the watch started on a CI machine at load 44, 2026-11-29)
        long ttl = Keys.MIN_TTL_SECONDS + 3;
        keys.put(dir + "kept", bytes("y"));
        keys.put(dir + "short", bytes("x"), PutOptions.any().ttl(Duration.ofSeconds(ttl)));
        expectDeletion(dir, 2, () -> {}, dir + "short", Cause.LEASE_TIMEOUT, PROMPTLY.plusSeconds(ttl));
        assertThat(keys.list(dir).entries()).extracting(KeyEntry::key).containsExactly(dir + "kept");
    }
}
