package io.holdfast.verify.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.verify.history.Call;
import io.holdfast.verify.history.KeyValue;
import io.holdfast.verify.history.Result;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link LifetimeKeys} on histories built by hand: each rule's broken history fails, naming the
 * rule's words, and its good twins (the read began too early, the write may land late, the session
 * the rejoin ran under was lost after it) pass.
 */
class LifetimeKeysTest {
    private static final String M = "group/c1";
    private static final String DEAD = "session-dead";
    private static final String NEW = "session-new";
    private static final String LEASE = "session-lease";

    private static List<String> violations(H h) {
        List<String> found = new ArrayList<>();
        new LifetimeKeys(h.records(), 0).check(found);
        return found;
    }

    private static KeyValue owned(String key, long version, String owner) {
        return new KeyValue(key, version, 1, owner);
    }

    /** c1 joined under DEAD, lost it, opened NEW and rejoined (the key moved, version 2) at 12. */
    private static H rejoined() {
        H h = new H();
        h.member("c1", 1, Call.Member.JOINED, M, DEAD, 1);
        h.member("c1", 10, Call.Member.LOST, null, DEAD, 0);
        h.member("c1", 11, Call.Member.REESTABLISHED, null, NEW, 0);
        h.member("c1", 12, Call.Member.REJOINED, M, NEW, 2);
        return h;
    }

    @Test
    void aReadAfterARejoinThatShowsTheDeadSessionOwningTheMemberFails() {
        H h = rejoined();
        h.keyList("c2", 13, "group/").saw(14, owned(M, 2, DEAD));
        assertThat(violations(h))
                .singleElement()
                .asString()
                .contains(M + " kept its dead session", "saw it owned by " + DEAD, "reported lost before its rejoin");
    }

    @Test
    void aReadAfterARejoinThatShowsTheNewSessionPasses() {
        H h = rejoined();
        h.keyList("c2", 13, "group/").saw(14, owned(M, 2, NEW));
        h.keyGet("c3", 13.5, M).saw(14.5, owned(M, 2, NEW));
        // began before the rejoin's notice: it may have read before the move
        h.keyGet("c3", 11.5, M).saw(12.5, owned(M, 1, DEAD));
        assertThat(violations(h)).isEmpty();
    }

    @Test
    void theSessionTheRejoinRanUnderMayBeLostBeforeItsNoticeAndStillOwnTheKey() {
        H h = new H();
        h.member("c1", 10, Call.Member.LOST, null, DEAD, 0);
        h.member("c1", 11, Call.Member.REESTABLISHED, null, NEW, 0);
        h.member("c1", 11.9, Call.Member.LOST, null, NEW, 0);
        h.member("c1", 12, Call.Member.REJOINED, M, NEW, 2);
        h.keyGet("c2", 13, M).saw(14, owned(M, 2, NEW));
        assertThat(violations(h)).isEmpty();
    }

    @Test
    void aMemberAbsentWhileItsSessionWasShownOpenAfterwardsFails() {
        H h = rejoined();
        h.keyGet("c2", 13, M).saw(14, KeyValue.absent(M));
        h.keyPut("c1", 15, "alive/c1", 0, NEW).saw(16, owned("alive/c1", 3, NEW));
        assertThat(violations(h))
                .singleElement()
                .asString()
                .contains(M + " went while its session lived", "REJOINED as " + NEW);
    }

    @Test
    void aMemberAbsentWithoutProofItsSessionLivedOrAfterTheNextSessionPasses() {
        H h = rejoined();
        h.keyGet("c2", 13, M).saw(14, KeyValue.absent(M));
        // the lease put began before the read returned, or was refused: no proof the session lived after it
        h.keyPut("c1", 13.5, "alive/c1", 0, NEW).saw(16, owned("alive/c1", 3, NEW));
        h.keyPut("c1", 17, "alive/c1", 0, NEW).refused(18, Result.Refused.CONFLICT);
        // after the next session a rejoin may be moving the key
        h.member("c1", 20, Call.Member.REESTABLISHED, null, "session-newer", 0);
        h.keyGet("c2", 21, M).saw(22, KeyValue.absent(M));
        h.keyPut("c1", 23, "alive/c1", 0, "session-newer").saw(24, owned("alive/c1", 4, "session-newer"));
        assertThat(violations(h)).isEmpty();
    }

    /** c1 leased tmp keys to LEASE, closed it, and a put naming it was refused at 5. */
    private static H leaseEnded() {
        H h = new H();
        h.keyPut("c1", 1, "lease/c1/0", 7, LEASE).saw(2, owned("lease/c1/0", 1, LEASE));
        h.keyList("c1", 2.5, "lease/c1/").saw(3, owned("lease/c1/0", 1, LEASE));
        h.keyPut("c1", 4, "lease/c1/probe", 0, LEASE).refused(5, Result.Refused.CONFLICT);
        return h;
    }

    @Test
    void aKeyOfALeaseShownEndedFails() {
        H h = leaseEnded();
        h.keyList("c2", 6, "lease/c1/").saw(7, owned("lease/c1/0", 1, LEASE));
        assertThat(violations(h)).singleElement().asString().contains("lease/c1/0 outlived its lease " + LEASE);
    }

    @Test
    void aKeyOfALeaseReadBeforeItsEndWasShownPasses() {
        H h = leaseEnded();
        h.keyGet("c2", 4.5, "lease/c1/0").saw(6, owned("lease/c1/0", 1, LEASE)); // began before the refusal returned
        h.keyList("c2", 6, "lease/c1/").saw(7);
        assertThat(violations(h)).isEmpty();
    }

    /** c1 put tmp/c1/0 (answered at 2) and deleted tmp/c1/ from 3 to 4. */
    private static H deleted() {
        H h = new H();
        h.keyPut("c1", 1, "tmp/c1/0", 5, null).saw(2, new KeyValue("tmp/c1/0", 1, 5));
        h.deletePrefix("c1", 3, "tmp/c1/").saw(4);
        return h;
    }

    @Test
    void aKeyShownAfterItsPrefixWasDeletedFails() {
        H h = deleted();
        h.keyGet("c2", 5, "tmp/c1/0").saw(6, new KeyValue("tmp/c1/0", 1, 5));
        assertThat(violations(h)).singleElement().asString().contains("tmp/c1/0 outlived its prefix's delete");
    }

    @Test
    void aKeyAbsentAfterItsPrefixWasDeletedPasses() {
        H h = deleted();
        h.keyGet("c2", 5, "tmp/c1/0").saw(6, KeyValue.absent("tmp/c1/0"));
        h.keyList("c2", 5, "tmp/c1/").saw(6);
        h.keyGet("c2", 3.5, "tmp/c1/0").saw(4.5, new KeyValue("tmp/c1/0", 1, 5)); // overlapped the delete
        // written again from 7: a read that returned after that may see it
        h.keyPut("c1", 7, "tmp/c1/0", 6, null).saw(8, new KeyValue("tmp/c1/0", 1, 6));
        h.keyGet("c2", 6.5, "tmp/c1/0").saw(7.5, new KeyValue("tmp/c1/0", 1, 6));
        assertThat(violations(h)).isEmpty();
    }

    @Test
    void aPutWhoseAnswerWasLostMayLandAfterTheDelete() {
        H h = new H();
        h.keyPut("c1", 1, "tmp/c1/0", 5, null).unknown(2);
        h.deletePrefix("c1", 3, "tmp/c1/").saw(4);
        h.keyGet("c2", 5, "tmp/c1/0").saw(6, new KeyValue("tmp/c1/0", 1, 5));
        assertThat(violations(h)).isEmpty();
    }

    @Test
    void aPutStillRunningWhenTheDeleteBeganMayLandAfterIt() {
        H h = new H();
        h.keyPut("c1", 1, "tmp/c1/0", 5, null).saw(3.5, new KeyValue("tmp/c1/0", 1, 5));
        h.deletePrefix("c1", 3, "tmp/c1/").saw(4);
        h.keyGet("c2", 5, "tmp/c1/0").saw(6, new KeyValue("tmp/c1/0", 1, 5));
        assertThat(violations(h)).isEmpty();
    }
}
