package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
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

    @Test
    void theFollowerWhoseLogIsAheadCampaignsTheOthersLeaveItTheElection() {
        // n1 missed the dead leader's last append (n3 has entry 3963, n1 3962): n3 campaigns, n1 never.
        TermIndex n1 = TermIndex.valueOf(2, 3962);
        TermIndex n3 = TermIndex.valueOf(2, 3963);

        Candidacy.Plan atN1 = Candidacy.plan(n1, "n1", 2, 0, Map.of("n3", answer(2, 2, 3963)));
        assertThat(atN1.never()).as(atN1.toString()).isTrue();
        assertThat(atN1.why()).startsWith("leaves the election to n3, whose log is ahead");
        assertThat(Candidacy.plan(n3, "n3", 2, 0, Map.of("n1", answer(2, 2, 3962)))
                        .now())
                .isTrue();
    }

    @Test
    void equalLogsGoToTheFirstIdAtOnceTheOtherWaitsForItsCampaign() {
        TermIndex same = TermIndex.valueOf(1, 6);

        assertThat(Candidacy.plan(same, "n2", 1, 0, Map.of("n3", answer(1, 1, 6)))
                        .now())
                .isTrue();
        Candidacy.Plan atN3 = Candidacy.plan(same, "n3", 1, 0, Map.of("n2", answer(1, 1, 6)));
        assertThat(atN3.waitMillis()).isEqualTo(Candidacy.TIE_WAIT_MILLIS);
        assertThat(atN3.why()).startsWith("leaves the election to n2, whose log is as far");
    }

    @Test
    void aFollowerStillApplyingItsLogLetsAnEqualOneGoFirst() {
        // Soak seed 1650345450: n2, restarted 25 s before, was still replaying its log; first by id,
        // it campaigned, won, and served nothing for 15 s. n3 must go first.
        TermIndex same = TermIndex.valueOf(1, 900);
        long replaying = 5_000;

        Candidacy.Plan atN2 = Candidacy.plan(same, "n2", 1, replaying, Map.of("n3", answer(1, 1, 900)));
        Candidacy.Plan atN3 = Candidacy.plan(same, "n3", 1, 0, Map.of("n2", answer(1, 1, 900)));

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

        assertThat(Candidacy.plan(same, "n2", 1, Candidacy.APPLYING_ENTRIES, Map.of("n3", answer(1, 1, 900)))
                        .now())
                .isTrue();
    }

    @Test
    void aFollowerWhoseLogIsBehindNeverCampaignsEvenIfTheOtherIsApplying() {
        Candidacy.Plan plan = Candidacy.plan(TermIndex.valueOf(1, 8), "n2", 1, 0, Map.of("n3", answer(1, 1, 9)));

        assertThat(plan.never()).as(plan.toString()).isTrue();
    }

    @Test
    void aLogAheadOutweighsATieWhicheverAnswersFirst() {
        // n4's log equals n2's (n2 first by id: a tie) but n3's is ahead: n4 must not campaign at all.
        Map<String, RequestVoteReplyProto> answers = new LinkedHashMap<>();
        answers.put("n2", answer(1, 1, 6));
        answers.put("n3", answer(1, 1, 7));

        Candidacy.Plan plan = Candidacy.plan(TermIndex.valueOf(1, 6), "n4", 1, 0, answers);

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
        Candidacy.Plan plan = Candidacy.plan(TermIndex.valueOf(1, 9), "n1", 1, 0, Map.of("n2", answer(2, 1, 6)));

        assertThat(plan.never()).isTrue();
        assertThat(plan.why()).isEqualTo("leaves the election to n2 (in term 2 already)");
    }

    @Test
    void votersThatDidNotAnswerAreLeftOut() {
        assertThat(Candidacy.plan(TermIndex.valueOf(1, 1), "n3", 1, 0, Map.of()).now())
                .isTrue();
    }
}
