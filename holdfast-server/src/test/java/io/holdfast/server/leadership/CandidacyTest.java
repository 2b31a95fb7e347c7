package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.server.protocol.TermIndex;
import org.junit.jupiter.api.Test;

/**
 * Which follower campaigns when its leader's process is gone ({@link Candidacy}), from each
 * follower's own point of view: exactly one at once where logs are frozen, never one whose log is
 * behind, and not one still applying its log while another could go first.
 */
class CandidacyTest {
    private static RequestVoteReplyProto answer(long term, long lastTerm, long lastIndex) {
        return RequestVoteReplyProto.newBuilder()
                .setTerm(term)
                .setLastEntry(TermIndex.valueOf(lastTerm, lastIndex).toProto())
                .build();
    }

    /** A JVM that has run for ten minutes. */
    private static final long WARM = 600_000;

    /** The plan of a follower whose JVM is warm. */
    private static Candidacy.Plan plan(
            TermIndex mine,
            String self,
            long term,
            long unapplied,
            Map<String, RequestVoteReplyProto> answers,
            Collection<String> silent) {
        return Candidacy.plan(mine, self, term, unapplied, WARM, answers, silent);
    }

    @Test
    void aYoungFollowerThatWouldCampaignAsksAnAsFarPeerToAndWaitsLongerThanThePeerWaitsForIt() {
        // Population run of 2026-12-04: n2, restarted 21 s before the leader's kill, won the tie by id
        // and took 5.4 s per relayed round while it compiled; 74,305 sessions expired.
        TermIndex same = TermIndex.valueOf(3, 41_000);
        long young = 21_000;

        Candidacy.Plan atN2 = Candidacy.plan(same, "n2", 3, 0, young, Map.of("n3", answer(3, 3, 41_000)), Set.of());
        Candidacy.Plan atN3 = plan(same, "n3", 3, 0, Map.of("n2", answer(3, 3, 41_000)), Set.of());

        assertThat(atN2.now()).as("young n2 campaigning at once: " + atN2).isFalse();
        assertThat(atN2.never()).as("young n2 never campaigning: " + atN2).isFalse();
        assertThat(atN2.handTo()).isEqualTo("n3");
        assertThat(atN2.why()).startsWith("started 21 s ago, so asks n3, whose log is as far, to campaign");
        assertThat(atN3.waitMillis())
                .as("n3's wait for n2, against n2's wait for n3")
                .isLessThan(atN2.waitMillis());
        assertThat(atN3.handTo()).isNull();
    }

    @Test
    void aYoungFollowerWhoseLogIsAheadCampaignsAtOnceAndAWarmOneNeverHandsOver() {
        // Nobody else could win: waiting would only cost the cell its leader for longer.
        Candidacy.Plan ahead = Candidacy.plan(
                TermIndex.valueOf(3, 41_001), "n2", 3, 0, 1_000, Map.of("n3", answer(3, 3, 41_000)), Set.of());
        assertThat(ahead.now()).as(ahead.toString()).isTrue();
        assertThat(ahead.handTo()).isNull();

        Candidacy.Plan warm = Candidacy.plan(
                TermIndex.valueOf(3, 41_000),
                "n2",
                3,
                0,
                Candidacy.WARM_AFTER_MILLIS,
                Map.of("n3", answer(3, 3, 41_000)),
                Set.of());
        assertThat(warm.now()).as(warm.toString()).isTrue();
        assertThat(warm.handTo()).isNull();
    }

    @Test
    void theFollowerWhoseLogIsAheadCampaignsTheOthersLeaveItTheElection() {
        // n1 missed the dead leader's last append (n3 has entry 3963, n1 3962): n3 campaigns, n1 never.
        TermIndex n1 = TermIndex.valueOf(2, 3962);
        TermIndex n3 = TermIndex.valueOf(2, 3963);

        Candidacy.Plan atN1 = plan(n1, "n1", 2, 0, Map.of("n3", answer(2, 2, 3963)), Set.of());
        assertThat(atN1.never()).as(atN1.toString()).isTrue();
        assertThat(atN1.why()).startsWith("leaves the election to n3, whose log is ahead");
        assertThat(plan(n3, "n3", 2, 0, Map.of("n1", answer(2, 2, 3962)), Set.of())
                        .now())
                .isTrue();
    }

    @Test
    void equalLogsGoToTheFirstIdAtOnceTheOtherWaitsForItsCampaign() {
        TermIndex same = TermIndex.valueOf(1, 6);

        assertThat(plan(same, "n2", 1, 0, Map.of("n3", answer(1, 1, 6)), Set.of())
                        .now())
                .isTrue();
        Candidacy.Plan atN3 = plan(same, "n3", 1, 0, Map.of("n2", answer(1, 1, 6)), Set.of());
        assertThat(atN3.waitMillis()).isEqualTo(Candidacy.TIE_WAIT_MILLIS);
        assertThat(atN3.why()).startsWith("leaves the election to n2, whose log is as far");
    }

    @Test
    void aFollowerStillApplyingItsLogLetsAnEqualOneGoFirst() {
        // Soak seed 1650345450: n2, restarted 25 s before, was still replaying its log; first by id,
        // it campaigned, won, and served nothing for 15 s. n3 must go first.
        TermIndex same = TermIndex.valueOf(1, 900);
        long replaying = 5_000;

        Candidacy.Plan atN2 = plan(same, "n2", 1, replaying, Map.of("n3", answer(1, 1, 900)), Set.of());
        Candidacy.Plan atN3 = plan(same, "n3", 1, 0, Map.of("n2", answer(1, 1, 900)), Set.of());

        assertThat(atN2.now()).as("n2 campaigning at once: " + atN2).isFalse();
        assertThat(atN2.never()).as("n2 never campaigning: " + atN2).isFalse();
        assertThat(atN2.why()).startsWith("is still applying its log (5000 entries)");
        assertThat(atN3.never()).isFalse();
        assertThat(atN3.waitMillis())
                .as("n3's wait for n2, against n2's wait for n3")
                .isLessThan(atN2.waitMillis());
    }

    @Test
    void entriesInFlightAreNotStillApplying() {
        TermIndex same = TermIndex.valueOf(1, 900);

        assertThat(plan(same, "n2", 1, Candidacy.APPLYING_ENTRIES, Map.of("n3", answer(1, 1, 900)), Set.of())
                        .now())
                .isTrue();
    }

    @Test
    void aFollowerWhoseLogIsBehindNeverCampaignsEvenIfTheOtherIsApplying() {
        Candidacy.Plan plan = plan(TermIndex.valueOf(1, 8), "n2", 1, 0, Map.of("n3", answer(1, 1, 9)), Set.of());

        assertThat(plan.never()).as(plan.toString()).isTrue();
    }

    @Test
    void aLogAheadOutweighsATieWhicheverAnswersFirst() {
        // n4's log equals n2's (n2 first by id: a tie) but n3's is ahead: n4 must not campaign at all.
        Map<String, RequestVoteReplyProto> answers = new LinkedHashMap<>();
        answers.put("n2", answer(1, 1, 6));
        answers.put("n3", answer(1, 1, 7));

        Candidacy.Plan plan = plan(TermIndex.valueOf(1, 6), "n4", 1, 0, answers, Set.of());

        assertThat(plan.never()).as(plan.toString()).isTrue();
        assertThat(plan.why()).contains("n3, whose log is ahead");
    }

    @Test
    void amongEqualLogsTheRivalNamedIsTheFirstById() {
        Map<String, RequestVoteReplyProto> answers = new LinkedHashMap<>();
        answers.put("n3", answer(1, 1, 6));
        answers.put("n2", answer(1, 1, 6));

        assertThat(Candidacy.aheadOf(TermIndex.valueOf(1, 6), "n4", 1, answers))
                .hasValueSatisfying(r -> assertThat(r.description()).startsWith("n2,"));
    }

    @Test
    void aVoterInANewerTermAlreadyMeansACampaignIsUnderWay() {
        Candidacy.Plan plan = plan(TermIndex.valueOf(1, 9), "n1", 1, 0, Map.of("n2", answer(2, 1, 6)), Set.of());

        assertThat(plan.never()).isTrue();
        assertThat(plan.why()).isEqualTo("leaves the election to n2 (in term 2 already)");
    }

    @Test
    void aFollowerThatHeardFromNobodyCampaignsAtOnce() {
        assertThat(plan(TermIndex.valueOf(1, 1), "n3", 1, 0, Map.of(), Set.of()).now())
                .isTrue();
    }

    @Test
    void aSilentVoterWhoseIdComesFirstIsWaitedForNotRacedAgainst() {
        // Population run B (load 135): n1 and n3 had equal logs; n1 campaigned at once (first by id),
        // n3's pre-vote to n1 went unanswered for 500 ms and n3 campaigned at once too. The vote split,
        // and the new leader served 9.3 s after the kill: 8,991 sessions of 10 s expired.
        TermIndex same = TermIndex.valueOf(3, 9826);

        Candidacy.Plan atN3 = plan(same, "n3", 3, 0, Map.of(), Set.of("n1"));
        assertThat(atN3.now()).as("n3 campaigning at once beside n1: " + atN3).isFalse();
        assertThat(atN3.never())
                .as("n3 never campaigning, if n1 is dead too: " + atN3)
                .isFalse();
        assertThat(atN3.waitMillis()).isEqualTo(Candidacy.SILENT_WAIT_MILLIS);
        assertThat(atN3.why()).startsWith("leaves the election to n1, which did not answer in time");
        // n1, silent n3 after it by id, is the one that campaigns.
        assertThat(plan(same, "n1", 3, 0, Map.of(), Set.of("n3")).now()).isTrue();
    }

    @Test
    void aFollowerWaitingForASilentVoterCampaignsBeforeOneThatLostATieToItGivesUpWaiting() {
        // Five voters, n5 the dead leader, n1 silent: n2 waits for n1, n3 and n4 wait for n2 (a tie
        // they lose by id). n2's wait must end first, or n2 and n3 would both campaign.
        TermIndex same = TermIndex.valueOf(1, 40);
        Map<String, RequestVoteReplyProto> others = new LinkedHashMap<>();
        others.put("n2", answer(1, 1, 40));
        others.put("n4", answer(1, 1, 40));

        Candidacy.Plan atN2 =
                plan(same, "n2", 1, 0, Map.of("n3", answer(1, 1, 40), "n4", answer(1, 1, 40)), Set.of("n1"));
        Candidacy.Plan atN3 = plan(same, "n3", 1, 0, others, Set.of("n1"));

        assertThat(atN3.why()).startsWith("leaves the election to n2");
        assertThat(atN2.waitMillis()).isPositive().isLessThan(atN3.waitMillis());
    }
}
