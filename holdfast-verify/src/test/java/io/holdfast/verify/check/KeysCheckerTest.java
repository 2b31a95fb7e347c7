package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.check.CheckResult.Status;
import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.Expectation;
import io.holdfast.verify.history.History;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Record;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The keys scenario's checks on histories built by hand: transactions and key reads linearizable
 * ({@link KeysModel} in the one search), the accounts' sum kept, fences held to the locks, and a
 * session's keys gone exactly with its locks. Each broken history fails; its good twin passes.
 */
class KeysCheckerTest {
    private static final String A = "acct/a";
    private static final String B = "acct/b";
    private static final String LOCK = "keys-lock";
    private static final String MEMBERS = "members-lock";

    static KeyValue kv(String key, long version, long value) {
        return new KeyValue(key, version, value);
    }

    /** Creates both accounts with 100 each, if both are absent. */
    static Call.KeyTxn create() {
        return new Call.KeyTxn(
                List.of(KeyValue.absent(A), KeyValue.absent(B)),
                null,
                0,
                List.of(kv(A, 0, 100), kv(B, 0, 100)),
                false,
                List.of(A, B));
    }

    /** Moves money: when a is at {@code va} and b at {@code vb}, writes a and b, then reads both. */
    static Call.KeyTxn transfer(long va, long vb, long a, long b, long fenceToken) {
        return new Call.KeyTxn(
                List.of(kv(A, va, 0), kv(B, vb, 0)),
                fenceToken == 0 ? null : LOCK,
                fenceToken,
                List.of(kv(A, 0, a), kv(B, 0, b)),
                false,
                List.of(A, B));
    }

    /** The history every test starts from: the accounts created, then a transfer of 10 under token 1. */
    static H created() {
        H h = new H();
        h.txn("c1", 0, create()).ran(1, true, kv(A, 1, 100), kv(B, 1, 100), kv(A, 1, 100), kv(B, 1, 100));
        h.acquire("c1", 2, LOCK).granted(3, 1);
        h.txn("c1", 4, transfer(1, 1, 90, 110, 1))
                .ran(5, true, kv(A, 2, 90), kv(B, 2, 110), kv(A, 2, 90), kv(B, 2, 110));
        return h;
    }

    private static CheckResult keys(H h) {
        return new KeysChecker().check(h.records());
    }

    private static CheckResult linearizability(H h) {
        return new LinearizabilityChecker().check(h.records());
    }

    @Test
    void transfersAndReadsOfOneStateEachPass() {
        H h = created();
        h.keyList("c2", 6, "acct/").saw(7, kv(A, 2, 90), kv(B, 2, 110));
        h.keyGet("c3", 6.5, A).saw(7.5, kv(A, 2, 90));
        // a transfer whose compares fail reads both at its point
        h.txn("c2", 8, transfer(1, 1, 50, 150, 0)).ran(9, false, kv(A, 2, 90), kv(B, 2, 110));
        h.release("c1", 10, LOCK, 1).released(11);
        assertThat(linearizability(h).status())
                .as(linearizability(h).toString())
                .isEqualTo(Status.PASS);
        CheckResult r = keys(h);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts()).containsEntry("sums read", 4L).containsEntry("fenced transactions", 1L);
    }

    @Test
    void aTransferOfUnknownOutcomeMayHaveRunOrNot() {
        H h = created();
        h.txn("c2", 6, transfer(2, 2, 80, 120, 0)).unknown(7);
        h.keyList("c3", 8, "acct/").saw(9, kv(A, 3, 80), kv(B, 3, 120));
        assertThat(linearizability(h).status()).isEqualTo(Status.PASS);
        H never = created();
        never.txn("c2", 6, transfer(2, 2, 80, 120, 0)).unknown(7);
        never.keyList("c3", 8, "acct/").saw(9, kv(A, 2, 90), kv(B, 2, 110));
        assertThat(linearizability(never).status()).isEqualTo(Status.PASS);
    }

    @Test
    void aLostUpdateIsNotLinearizable() {
        // c2 read version 1 before c1's transfer and committed after it: its compare of version 1
        // held against version 2 (the planted stale-txn-compare), and c1's transfer was overwritten
        H h = created();
        h.txn("c2", 6, transfer(1, 1, 50, 150, 0))
                .ran(7, true, kv(A, 3, 50), kv(B, 3, 150), kv(A, 3, 50), kv(B, 3, 150));
        CheckResult r = linearizability(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("acct/: not linearizable: c2:1 KEY_TXN acct/ OK if [acct/a@1, acct/b@1] put [acct/a=50,"
                        + " acct/b=150] get [acct/a, acct/b] then [acct/a@3=50, acct/b@3=150");
    }

    @Test
    void aTransactionSeenHalfAppliedBreaksTheSumAndTheOrder() {
        H h = created();
        h.keyList("c2", 6, "acct/").saw(7, kv(A, 2, 90), kv(B, 1, 100));
        CheckResult r = keys(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("the accounts sum to 190, not 200 ([acct/a@2=90, acct/b@1=100]): c2:1 KEY_LIST acct/*");
        assertThat(linearizability(h).status()).isEqualTo(Status.FAIL);
    }

    @Test
    void accountsSeenHalfCreatedFail() {
        H h = new H();
        h.txn("c1", 0, create()).ran(1, true, kv(A, 1, 100), kv(B, 1, 100), kv(A, 1, 100), kv(B, 1, 100));
        h.keyList("c2", 0.5, "acct/").saw(0.7, kv(A, 1, 100));
        assertThat(keys(h).violations()).singleElement().asString().startsWith("accounts seen half created");
    }

    @Test
    void aFencedTransferAfterTheNextGrantFails() {
        H h = created();
        h.acquire("c2", 6, LOCK).granted(7, 2); // token 1 was over by t=7
        h.txn("c1", 8, transfer(2, 2, 80, 120, 1))
                .ran(9, true, kv(A, 3, 80), kv(B, 3, 120), kv(A, 3, 80), kv(B, 3, 120));
        CheckResult r = keys(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations()).singleElement().asString().contains("ran fenced by token 1 after c2:1 ACQUIRE");
        // the same transfer begun before that grant returned is legal
        H early = created();
        early.acquire("c2", 6, LOCK).granted(8.5, 2);
        early.txn("c1", 8, transfer(2, 2, 80, 120, 1))
                .ran(9, true, kv(A, 3, 80), kv(B, 3, 120), kv(A, 3, 80), kv(B, 3, 120));
        assertThat(keys(early).status()).isEqualTo(Status.PASS);
    }

    /** Session s1 holds members-lock with token 5 and puts members/s1 attached, fenced by it. */
    static H session() {
        H h = new H();
        h.acquire("c1", 0, MEMBERS).granted(1, 5);
        h.txn("c1", 2, new Call.KeyTxn(List.of(), MEMBERS, 5, List.of(kv("members/s1", 0, 5)), true, List.of()))
                .ran(3, true, kv("members/s1", 1, 5));
        return h;
    }

    @Test
    void aSessionKeyGoneWithItsLockPasses() {
        H h = session();
        h.keyList("c3", 4, "members/").saw(5, kv("members/s1", 1, 5));
        h.acquire("c2", 4, MEMBERS).granted(10, 6); // s1 ended in between
        h.keyList("c3", 11, "members/").saw(12);
        h.keyGet("c3", 11, "members/s1").saw(12, KeyValue.absent("members/s1"));
        h.watched("c4", 9, "members/s1", "REGISTER_DELETED", "s1", 0, "SESSION_CLOSED", "40.2");
        h.watched("c4", 9, MEMBERS, "RELEASED", "s1", 5, "SESSION_CLOSED", "40.1");
        CheckResult r = keys(h);
        assertThat(r.status()).as(r.toString()).isEqualTo(Status.PASS);
        assertThat(r.counts())
                .containsEntry("session keys", 1L)
                .containsEntry("session key reads", 3L)
                .containsEntry("session ends watched", 1L);
        assertThat(linearizability(h).counts()).containsEntry("key groups left to the keys checker", 1L);
    }

    @Test
    void aKeyThatOutlivesItsSessionFails() {
        H h = session();
        h.acquire("c2", 4, MEMBERS).granted(10, 6);
        h.keyList("c3", 11, "members/").saw(12, kv("members/s1", 1, 5));
        CheckResult r = keys(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("members/s1 outlived its session: c3:1 KEY_LIST members/* OK")
                .contains("after a grant of members-lock above token 5 returned at t+10.000ms");
    }

    @Test
    void aKeyGoneWhileItsSessionStillHoldsFails() {
        H h = session();
        h.keyGet("c3", 4, "members/s1").saw(5, KeyValue.absent("members/s1"));
        h.valid("c1", 6, H.lock(MEMBERS), 5);
        CheckResult r = keys(h);
        assertThat(r.status()).isEqualTo(Status.FAIL);
        assertThat(r.violations())
                .singleElement()
                .asString()
                .startsWith("members/s1 went before its session's lock: c3:1 KEY_GET members/s1 OK");
    }

    @Test
    void aDeletionAndAReleaseInTwoStepsFail() {
        H h = session();
        h.watched("c4", 9, "members/s1", "REGISTER_DELETED", "s1", 0, "SESSION_EXPIRED", "41.1");
        h.watched("c4", 9, MEMBERS, "RELEASED", "s1", 5, "SESSION_EXPIRED", "40.1");
        assertThat(keys(h).violations())
                .singleElement()
                .asString()
                .isEqualTo("members/s1 was deleted at 41.1 but its session's grant of members-lock (token 5) was"
                        + " released at 40.1 (watched by c4): not one step");
    }

    @Test
    void keyRecordsRoundTripAndOldLinesLoad() {
        List<Record> records = created().records();
        for (Record r : records) {
            assertThat(History.fromLine(History.toLine(r))).isEqualTo(r);
        }
        Record old = History.fromLine("{\"rec\":\"op\",\"type\":\"INVOKE\",\"process\":\"c1\",\"seq\":1,\"time\":5,"
                + "\"phase\":\"workload\",\"f\":\"REG_GET\",\"key\":\"reg-0\",\"kind\":\"REGISTER\"}");
        assertThat(((io.holdfast.verify.history.Op) old).call()).isEqualTo(new Call.RegisterRead("reg-0"));
    }

    @Test
    void aKeysRunThatExercisedNothingIsInconclusiveNeverAPass() {
        H refused = new H().meta("keys", Expectation.KEYS_EXERCISED);
        refused.txn("c1", 0, create()).refused(1, "UNSUPPORTED");
        CheckResult r = keys(refused);
        assertThat(r.status()).isEqualTo(Status.INCONCLUSIVE);
        assertThat(r.detail())
                .isEqualTo("no fenced transfer ran; no read of both accounts; no session's key was read after its put");
        assertThat(keys(new H().meta("keys", Expectation.KEYS_EXERCISED)).status())
                .isEqualTo(Status.INCONCLUSIVE);
        H exercised = created().meta("keys", Expectation.KEYS_EXERCISED);
        exercised.keyList("c3", 6, "acct/").saw(7, kv(A, 2, 90), kv(B, 2, 110));
        exercised.acquire("s1", 8, MEMBERS).granted(9, 5);
        exercised
                .txn("s1", 10, new Call.KeyTxn(List.of(), MEMBERS, 5, List.of(kv("members/s1", 0, 5)), true, List.of()))
                .ran(11, true, kv("members/s1", 1, 5));
        exercised.keyGet("c3", 12, "members/s1").saw(13, kv("members/s1", 1, 5));
        assertThat(keys(exercised).status()).as(keys(exercised).toString()).isEqualTo(Status.PASS);
    }
}
