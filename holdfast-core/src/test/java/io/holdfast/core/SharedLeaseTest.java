package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.Keys;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.WatchEvent;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.KeyPage;
import io.holdfast.model.Reply;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A put that attaches its key to another session, a lease (ADR 0006, protocol version 10), through
 * the pure table: the key is the lease's, goes in the step that ends the lease (closed or ended)
 * and not with its writer; a lease that is not open, one of another identity, one at its
 * keys-per-session limit and a malformed one are refused and change nothing; a retry is answered
 * from memory; a snapshot keeps whose the key is.
 */
class SharedLeaseTest {
    private final TableDriver d = new TableDriver();
    private final Client lease = d.open("lease");
    private final Client writer = d.open("writer");
    private final List<WatchEvent> changes = new ArrayList<>();

    private Reply apply(TableDriver on, Command c) {
        changes.clear();
        return on.table().apply(Command.Envelope.of(on.time(), c), EventSink.NONE, changes::add);
    }

    private Reply apply(Command c) {
        return apply(d, c);
    }

    private static Transaction put(Invocation inv, String key, String onLease) {
        return new Transaction(
                inv,
                List.of(),
                List.of(new Op.Put(key, -1, key.getBytes(StandardCharsets.UTF_8), Lifetime.ATTACH, 0, onLease)),
                List.of());
    }

    private static Reply written(long version) {
        return new Reply.Transacted(true, List.of(new Reply.OpResult(version, null, 0)));
    }

    private String owner(TableDriver on, String key) {
        KeyPage page = on.table().keys(key, null, Keys.MAX_PAGE, k -> true, io.holdfast.model.ChangePosition.START);
        return page.keys().stream()
                .filter(e -> e.key().equals(key))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no key " + key))
                .owner();
    }

    @Test
    void theKeyIsTheLeasesAndGoesWhenTheLeaseIsClosedNotWithItsWriter() {
        assertThat(apply(put(writer.next(), "svc/a", lease.id))).isEqualTo(written(1));
        assertThat(owner(d, "svc/a")).isEqualTo(lease.id);

        apply(new Command.CloseSession(writer.next()));
        assertThat(changes).as("the writer's end takes nothing of the lease's").isEmpty();
        assertThat(d.table().register("svc/a")).isPresent();

        apply(new Command.CloseSession(lease.next()));
        assertThat(changes)
                .containsExactly(WatchEvent.registerDeleted("svc/a", lease.id, 1, WatchEvent.Cause.SESSION_CLOSED));
        assertThat(d.table().register("svc/a")).isEmpty();
    }

    @Test
    void anOperatorsEndOfTheLeaseTakesItsKeysAsAnExpiry() {
        apply(put(writer.next(), "svc/a", lease.id));
        apply(put(writer.next(), "svc/b", lease.id));

        apply(new Command.EndSession(lease.id));
        assertThat(changes)
                .containsExactly(
                        WatchEvent.registerDeleted("svc/a", lease.id, 1, WatchEvent.Cause.SESSION_EXPIRED),
                        WatchEvent.registerDeleted("svc/b", lease.id, 1, WatchEvent.Cause.SESSION_EXPIRED));
    }

    @Test
    void aLeaseThatIsNotOpenIsAConflictAndTheWholeTransactionChangesNothing() {
        apply(new Command.CloseSession(lease.next()));
        Transaction t = new Transaction(
                writer.next(),
                List.of(),
                List.of(
                        new Op.Put("svc/mine", -1, new byte[] {1}, Lifetime.ATTACH, 0),
                        new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.ATTACH, 0, lease.id)),
                List.of());

        Reply.Failed f = failed(apply(t), ErrorCode.CONFLICT);
        assertThat(f.message()).isEqualTo("then op 2: lease " + lease.id + " is not an open session");
        assertThat(changes).isEmpty();
        assertThat(d.table().register("svc/mine")).as("op 1 rolled back").isEmpty();
        assertThat(d.table().hasSession(writer.id))
                .as("the writer's session is not the one refused")
                .isTrue();
    }

    @Test
    void theWritersOwnSessionAsLeaseIsAnAttachedPut() {
        assertThat(apply(put(writer.next(), "svc/a", writer.id))).isEqualTo(written(1));
        assertThat(owner(d, "svc/a")).isEqualTo(writer.id);
    }

    @Test
    void aRetryIsAnsweredFromMemoryAndAttachesOnce() {
        Invocation inv = writer.next();
        assertThat(apply(put(inv, "svc/a", lease.id))).isEqualTo(written(1));
        assertThat(apply(put(inv, "svc/a", lease.id))).isEqualTo(written(1));
        assertThat(changes).isEmpty();
        assertThat(d.table().register("svc/a").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void malformedLeasesAreRefusedBeforeAnythingChanges() {
        for (Op.Put bad : List.of(
                new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.DETACH, 0, lease.id),
                new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.KEEP, 0, lease.id),
                new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.ATTACH, 5_000, lease.id),
                new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.ATTACH, 0, "short"),
                new Op.Put("svc/a", -1, new byte[] {1}, Lifetime.ATTACH, 0, "not/a-session-id-at-all"))) {
            Reply r = apply(new Transaction(writer.next(), List.of(), List.of(bad), List.of()));
            failed(r, ErrorCode.INVALID_ARGUMENT);
            assertThat(d.table().register("svc/a")).as(bad.toString()).isEmpty();
        }
    }

    @Test
    void aLeaseAtItsKeysPerSessionLimitTakesNoMore() {
        for (int i = 0; i < Limits.MAX_KEYS_PER_SESSION; i++) {
            assertThat(apply(put(writer.next(), "k/" + i, lease.id))).isInstanceOf(Reply.Transacted.class);
        }
        Reply.Failed f = failed(apply(put(writer.next(), "k/over", lease.id)), ErrorCode.QUOTA_EXCEEDED);
        assertThat(f.message()).contains("keys-per-session");
        assertThat(d.table().register("k/over")).isEmpty();
        assertThat(apply(new Transaction(
                        writer.next(),
                        List.of(),
                        List.of(new Op.Put("k/over", -1, new byte[] {1}, Lifetime.ATTACH, 0)),
                        List.of())))
                .as("the writer's own session has its own limit")
                .isEqualTo(written(1));
    }

    @Test
    void aSnapshotKeepsWhoseTheKeyIs() throws IOException {
        apply(put(writer.next(), "svc/a", lease.id));
        TableDriver copy = d.restored();
        assertThat(owner(copy, "svc/a")).isEqualTo(lease.id);

        apply(copy, new Command.CloseSession(copy.client("lease").next()));
        assertThat(changes)
                .containsExactly(WatchEvent.registerDeleted("svc/a", lease.id, 1, WatchEvent.Cause.SESSION_CLOSED));
    }

    @Test
    void withAccessRulesOnlyTheLeasesIdentityOrAnAdminMayAttachToIt() {
        LockTable table = new LockTable();
        String rules = """
                user alice writer
                user bob writer
                user ops root
                role writer acquire svc/* read *
                role root admin *
                """;
        assertThat(table.apply(new Command.Envelope(1_000, null, new Command.SetAccessRules(rules)), e -> {}))
                .isEqualTo(Reply.Ok.INSTANCE);
        String alice = "alice-session-000000000001";
        String alice2 = "alice-session-000000000002";
        String bob = "bob-session-00000000000001";
        String ops = "ops-session-00000000000001";
        for (String[] s : new String[][] {{"alice", alice}, {"alice", alice2}, {"bob", bob}, {"ops", ops}}) {
            assertThat(table.apply(
                            new Command.Envelope(1_000, s[0], new Command.OpenSession(s[1], s[0], 10_000, 0)), e -> {}))
                    .isEqualTo(Reply.Ok.INSTANCE);
        }
        java.util.function.BiFunction<String, Command, Reply> as =
                (who, c) -> table.apply(new Command.Envelope(1_000, who, c), e -> {});

        Reply.Failed f =
                failed(as.apply("bob", put(new Invocation(bob, 1, 0), "svc/b", alice)), ErrorCode.PERMISSION_DENIED);
        assertThat(f.message())
                .isEqualTo("then op 1: identity bob may not attach keys to lease " + alice
                        + ", a session of another identity");
        assertThat(table.register("svc/b")).isEmpty();

        assertThat(as.apply("alice", put(new Invocation(alice2, 1, 0), "svc/a", alice)))
                .as("another session of the same identity")
                .isEqualTo(written(1));
        assertThat(as.apply("ops", put(new Invocation(ops, 1, 0), "svc/o", alice)))
                .as("an admin")
                .isEqualTo(written(1));
    }
}
