package io.holdfast.core;

import static io.holdfast.core.TableDriver.token;
import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.PutOptions.Lifetime;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.core.TableDriver.Client;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.KeyPage;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Election records apart from the keyspace ({@link ElectionRecords}, issue 70, item 7): a write of
 * the register of a lock's name, fenced by that lock's grant and holding {@code "<token>:<value>"},
 * kept out of key listings and key watches, read by name, and deleted when the lock has nobody.
 */
class ElectionRecordsTest {
    private final TableDriver d = new TableDriver();
    private final Client a = d.open("a");
    private final Client b = d.open("b");
    private final List<WatchEvent> changes = new ArrayList<>();

    private Reply apply(io.holdfast.model.Command c) {
        changes.clear();
        return d.table().apply(io.holdfast.model.Command.Envelope.of(d.time(), c), EventSink.NONE, changes::add);
    }

    /** What every client's campaign writes once it leads: the record, keeping the key's lifetime. */
    private Reply proclaim(Client c, String election, long token, String value, Lifetime lifetime) {
        byte[] record = (token + ":" + value).getBytes(StandardCharsets.UTF_8);
        long version = d.table().register(election).map(v -> v.version()).orElse(0L);
        return apply(new RegisterSet(c.next(), election, version, record, election, token, true, lifetime, 0));
    }

    private List<String> listed(String prefix) {
        KeyPage page = d.table().keys(prefix, null, 100, k -> true, ChangePosition.START);
        return page.keys().stream().map(KeyPage.Entry::key).toList();
    }

    @Test
    void aRecordIsReadByNameButLeftOutOfListingsAndKeyWatchesAndGoesWithItsLastHolder() {
        b.set("svc/config", 0, new byte[] {1});
        long t = token(a.acquire("svc/indexer").apply());
        assertThat(proclaim(a, "svc/indexer", t, "10.0.0.7", Lifetime.KEEP)).isEqualTo(new Reply.Written(1));
        assertThat(changes).hasSize(1);
        WatchEvent written = changes.get(0);
        assertThat(ChangeLog.concerns(WatchTarget.register("svc/indexer"), written))
                .isTrue();
        assertThat(ChangeLog.concerns(WatchTarget.keys("svc/"), written)).isFalse();
        assertThat(d.table().register("svc/indexer")).isPresent();
        assertThat(listed("svc/")).containsExactly("svc/config");

        apply(new io.holdfast.model.Command.Release(a.next(), "svc/indexer", t));
        assertThat(d.table().register("svc/indexer"))
                .as("its election has nobody")
                .isEmpty();
        WatchEvent gone = changes.get(changes.size() - 1);
        assertThat(gone.type()).isEqualTo(WatchEvent.Type.REGISTER_DELETED);
        assertThat(gone.cause()).isEqualTo(WatchEvent.Cause.RELEASED);
        assertThat(ChangeLog.concerns(WatchTarget.register("svc/indexer"), gone))
                .isTrue();
        assertThat(ChangeLog.concerns(WatchTarget.keys("svc/"), gone)).isFalse();
        assertThat(d.table().register("svc/config")).as("other keys stay").isPresent();
    }

    @Test
    void whileACandidateWaitsTheRecordStaysAndTheNextLeaderWritesItsOwn() {
        long t1 = token(a.acquire("e").apply());
        proclaim(a, "e", t1, "a", Lifetime.KEEP);
        b.acquire("e").waitMillis(60_000).apply();
        apply(new io.holdfast.model.Command.Release(a.next(), "e", t1));
        assertThat(d.table().register("e"))
                .as("b leads now: the lock was never idle")
                .isPresent();
        long t2 = d.describe("e").holders().get(0).fencingToken();
        proclaim(b, "e", t2, "b", Lifetime.KEEP);
        d.expire(b);
        d.advance(60_000).tick(); // past any lock-delay
        assertThat(d.table().register("e"))
                .as("its last leader's session ended")
                .isEmpty();
    }

    @Test
    void onlyAKeepingWriteFencedByItsOwnLocksGrantWithItsTokenIsARecord() {
        long t = token(a.acquire("e").apply());
        long other = token(a.acquire("other").apply());
        proclaim(a, "e", t, "as before version 8", Lifetime.DETACH); // a mixed cluster logs type 16
        apply(new RegisterSet(a.next(), "e2", 0, (other + ":x").getBytes(StandardCharsets.UTF_8), "other", other));
        apply(new RegisterSet(
                a.next(), "other", 0, "data".getBytes(StandardCharsets.UTF_8), "other", other, true, Lifetime.KEEP, 0));
        assertThat(listed("")).containsExactly("e", "e2", "other");
        a.release("e", t);
        a.release("other", other);
        assertThat(listed("")).as("plain keys outlive their locks").containsExactly("e", "e2", "other");

        long t2 = token(a.acquire("e").apply());
        proclaim(a, "e", t2, "now", Lifetime.KEEP);
        assertThat(listed("")).containsExactly("e2", "other");
        a.set("e", 2, new byte[] {7}); // any other write makes it a plain key again
        assertThat(listed("")).containsExactly("e", "e2", "other");
    }

    @Test
    void aSnapshotKeepsTheRecordsInFormatEightAndOnlyWhileThereIsOne() throws Exception {
        long t = token(a.acquire("e").apply());
        byte[] before = d.snapshot();
        assertThat(ByteBuffer.wrap(before).getInt(4)).isLessThan(8);
        proclaim(a, "e", t, "v", Lifetime.KEEP);
        byte[] with = d.snapshot();
        assertThat(ByteBuffer.wrap(with).getInt(4)).isEqualTo(8);
        LockTable read = LockTable.readSnapshot(new ByteArrayInputStream(with));
        assertThat(TableDriver.snapshotOf(read)).isEqualTo(with);
        TableDriver again = new TableDriver(read);
        assertThat(again.table()
                        .keys("", null, 100, k -> true, ChangePosition.START)
                        .keys())
                .isEmpty();
        assertThat(read.restored(0).register("e"))
                .as("a restored table has no locks, so no records")
                .isEmpty();
    }
}
