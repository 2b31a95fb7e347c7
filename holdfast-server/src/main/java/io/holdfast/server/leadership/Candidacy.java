package io.holdfast.server.leadership;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import org.apache.ratis.proto.RaftProtos.RequestVoteReplyProto;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * Which follower campaigns when the leader's process is gone, and when: the pure rule of {@link
 * DeadLeaderWatch}, decided from this node's own log and the other voters' answers to a pre-vote
 * request (their current term and last log entry).
 *
 * <p>Guarantees: with the same frozen logs, every follower that asks reaches the same verdict, so
 * one campaigns at once and the others wait; a follower whose log is behind another's never
 * campaigns (it would be refused, and its failed campaign would move everyone's term on); a
 * follower still applying a long stretch of its log (just restarted, replaying it) lets the others
 * go first, since as leader it could serve nothing until it had applied all of it; and a follower
 * that left the election to a peer whose log is only as far as its own campaigns itself if that
 * peer has not within {@link #TIE_WAIT_MILLIS} ms (it did not see the leader die, or is the one
 * still applying). A voter that did not answer in time and whose id comes first is waited for too,
 * {@link #SILENT_WAIT_MILLIS} ms: on a loaded machine, silence is more often slowness than death,
 * and if it is the tie's winner it is campaigning already.
 *
 * <p>A follower whose JVM started less than {@link #WARM_AFTER_MILLIS} ms ago and would campaign at
 * once, with a peer whose log is as far, asks that peer to campaign at once instead ({@link
 * Plan#handTo}) and waits {@link #APPLYING_WAIT_MILLIS} ms for it, which is longer than the peer's own
 * {@link #TIE_WAIT_MILLIS} ms wait for this one: a leader spends its first seconds compiling the
 * leader's code, and a warm peer serves the clients of a fleet at once. It cannot tell whether that
 * peer is warm (a pre-vote answer carries no age): when both are young, the election is as quick as
 * before, only won by the other.
 *
 * <p>Does not guarantee a single campaign: logs that change while the voters are asked (the dead
 * leader's last append still on its way) can make two followers campaign, or one whose log turns
 * out behind. Raft's vote keeps that safe; its election timeout then decides, as without the
 * watch.
 *
 * <p>Failure story (soak seed 1650345450, leader-kill): n1 led, n2 had restarted 25 s before and
 * was still replaying its log on a loaded machine. n1 was killed; n2 and n3 found equal logs, and
 * n2, first by id, campaigned and won, then took 15 s to apply its log before it could serve.
 * Under this rule n2 waits {@link #APPLYING_WAIT_MILLIS} ms, n3 waits {@link #TIE_WAIT_MILLIS} ms
 * for n2, sees no campaign, and campaigns itself.
 *
 * <p>Second failure story (population run B, 10,000 sessions, load 135): n2 led, n1 and n3 had
 * equal logs. n1 campaigned at once, first by id; n3's pre-vote to n1 went unanswered for its 500
 * ms, and with no answer n3 campaigned at once too. The vote split, two more terms went by before
 * n3 was elected, and the new leader served 9.3 s after the kill, against the sessions' 10 s TTL:
 * 8,991 sessions expired. Under this rule n3 waits {@link #SILENT_WAIT_MILLIS} ms for n1, and n1's
 * campaign reaches it meanwhile.
 *
 * <p>Third failure story (population run, 100,000 sessions, 2026-12-04): n2 had been restarted 21 s
 * before n1, the leader, was killed; n2 and n3 had equal logs, and n2, first by id, campaigned and
 * won. Its relayed rounds from n3 took 5.4 s each while it compiled, n3's clients moved to it, and
 * 74,305 sessions expired. Under this rule n2, young, asks n3 to campaign at once, and waits.
 */
final class Candidacy {
    /** How long a follower that left the election to a peer as far as itself waits for its campaign. */
    static final long TIE_WAIT_MILLIS = 600;
    /** How long a follower still applying its log waits for another's campaign before its own. */
    static final long APPLYING_WAIT_MILLIS = 2 * TIE_WAIT_MILLIS;
    /**
     * Entries committed but not applied yet beyond which a follower counts as still applying its
     * log. A follower that keeps up trails its commit index by what its state machine has queued.
     */
    static final long APPLYING_ENTRIES = 256;
    /**
     * How long a follower waits for the campaign of a voter that did not answer and whose id comes
     * first: shorter than {@link #TIE_WAIT_MILLIS}, so that a third follower, which waits that long
     * for this one (a tie it loses by id), sees this one's campaign before its own wait ends.
     */
    static final long SILENT_WAIT_MILLIS = TIE_WAIT_MILLIS / 2;
    /**
     * How long after its JVM started a follower counts as warm: the leader's paths compiled, or
     * rehearsed ({@link LeaderRehearsal}), and its first collections behind it. A restarted member
     * of the population run was 21 s old when it was elected and took 5.4 s per relayed round.
     */
    static final long WARM_AFTER_MILLIS = 60_000;

    /**
     * Campaign after {@code waitMillis} unless another has (0: at once), or never ({@link #never});
     * {@code handTo}, when not null, is a voter as far as this node that should be asked to campaign
     * at once meanwhile (this node is young).
     */
    record Plan(long waitMillis, String why, String handTo) {
        static final long NEVER = -1;

        Plan(long waitMillis, String why) {
            this(waitMillis, why, null);
        }

        boolean now() {
            return waitMillis == 0;
        }

        boolean never() {
            return waitMillis == NEVER;
        }
    }

    /** A voter that should campaign instead of this node; {@code tie} if only its id put it first. */
    record Rival(String description, boolean tie) {}

    private Candidacy() {}

    /**
     * What this node does, its leader gone.
     *
     * @param mine this node's last log entry (null: an empty log)
     * @param self this node's id
     * @param term this node's current term
     * @param unapplied entries this node knows committed that its state machine has not applied yet
     * @param uptimeMillis how long ago this node's JVM started
     * @param answers the other voters' answers by id (the dead leader and the silent left out)
     * @param silent the voters asked that did not answer in time
     */
    static Plan plan(
            TermIndex mine,
            String self,
            long term,
            long unapplied,
            long uptimeMillis,
            Map<String, RequestVoteReplyProto> answers,
            Collection<String> silent) {
        Optional<Rival> rival = aheadOf(mine, self, term, answers);
        if (rival.isPresent() && !rival.get().tie()) {
            return new Plan(Plan.NEVER, "leaves the election to " + rival.get().description());
        }
        if (unapplied > APPLYING_ENTRIES) {
            return new Plan(
                    APPLYING_WAIT_MILLIS,
                    "is still applying its log (" + unapplied + " entries); leaves the others " + APPLYING_WAIT_MILLIS
                            + " ms to campaign first");
        }
        if (rival.isPresent()) {
            return new Plan(
                    TIE_WAIT_MILLIS,
                    "leaves the election to " + rival.get().description() + " for " + TIE_WAIT_MILLIS + " ms");
        }
        Optional<String> first = silentFirst(self, silent);
        if (first.isPresent()) {
            return new Plan(
                    SILENT_WAIT_MILLIS,
                    "leaves the election to " + first.get() + ", which did not answer in time and whose id comes"
                            + " first, for " + SILENT_WAIT_MILLIS + " ms");
        }
        Optional<String> asFar = asFar(mine, answers);
        if (uptimeMillis < WARM_AFTER_MILLIS && asFar.isPresent()) {
            return new Plan(
                    APPLYING_WAIT_MILLIS,
                    "started " + uptimeMillis / 1000 + " s ago, so asks " + asFar.get() + ", whose log is as far, to"
                            + " campaign, and waits " + APPLYING_WAIT_MILLIS + " ms for it",
                    asFar.get());
        }
        return new Plan(0, "campaigns");
    }

    /** The first by id of the voters that answered with a last entry equal to {@code mine}; empty if none. */
    static Optional<String> asFar(TermIndex mine, Map<String, RequestVoteReplyProto> answers) {
        return answers.entrySet().stream()
                .filter(a -> a.getValue().hasLastEntry()
                        && mine != null
                        && mine.equals(TermIndex.valueOf(a.getValue().getLastEntry())))
                .map(Map.Entry::getKey)
                .min(String::compareTo);
    }

    /** The first by id of the silent voters whose ids come before {@code self}; empty if none. */
    static Optional<String> silentFirst(String self, Collection<String> silent) {
        return silent.stream().filter(id -> id.compareTo(self) < 0).min(String::compareTo);
    }

    /**
     * The voter, of those that answered, that should campaign instead of {@code self}: one in a
     * newer term than {@code term} already, or one whose last entry is ahead of {@code mine}, or as
     * far with an id that comes first (a tie); empty if {@code self} should.
     */
    static Optional<Rival> aheadOf(TermIndex mine, String self, long term, Map<String, RequestVoteReplyProto> answers) {
        Rival tie = null;
        String tieId = null;
        for (Map.Entry<String, RequestVoteReplyProto> answer : answers.entrySet()) {
            String id = answer.getKey();
            RequestVoteReplyProto reply = answer.getValue();
            if (reply.getTerm() > term) {
                return Optional.of(new Rival(id + " (in term " + reply.getTerm() + " already)", false));
            }
            if (!reply.hasLastEntry()) {
                continue;
            }
            TermIndex theirs = TermIndex.valueOf(reply.getLastEntry());
            int byLog = mine == null ? -1 : mine.compareTo(theirs);
            if (byLog < 0) {
                return Optional.of(new Rival(id + ", whose log is ahead (" + theirs + " against " + mine + ")", false));
            }
            if (byLog == 0 && id.compareTo(self) < 0 && (tieId == null || id.compareTo(tieId) < 0)) {
                tieId = id;
                tie = new Rival(id + ", whose log is as far and whose id comes first (" + theirs + ")", true);
            }
        }
        return Optional.ofNullable(tie);
    }
}
