package io.holdfast.verify.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The rounds of the {@code membership} scenario ({@link Scenarios}): first the fixed ones, each the
 * replay of a way a change of the members went wrong (a member that lost its disk and came back
 * under its old id, and an addition interrupted by the leader's death), then random rounds that
 * grow and shrink the cluster under load while a follower is down or cut off.
 */
final class MembershipRounds {
    private MembershipRounds() {}

    /**
     * The whole {@code membership} nemesis: {@link #loseADisk}, {@link #interruptAnAdd}, then until
     * the run's faulted part ends, every 0.5 to 1.5 s, a change of the members (a spare added as a
     * voter, or as a learner then promoted; a member removed, the leader too; or, one time in three
     * when growing, another interrupted addition) while, with four members or more, a follower is
     * killed or cut off from everyone; then everything is healed.
     */
    static void run(Faults f, Random r) throws java.io.IOException, InterruptedException {
        loseADisk(f, r);
        interruptAnAdd(f, r);
        while (f.sleep(between(r, 500, 1500))) {
            List<String> members = f.nodeIds();
            String leader = f.leader();
            // A fault during the change: a follower killed, or cut off from everyone.
            List<String> others = f.followers(leader);
            String victim = others.get(r.nextInt(others.size()));
            boolean kill = r.nextBoolean();
            boolean grow = members.size() <= 3 || (members.size() < 5 && r.nextBoolean());
            if (grow && r.nextInt(3) == 0) { // the leader dies instead
                interruptAnAdd(f, r);
                continue;
            }
            if (members.size() >= 4) { // a majority stays up while one is down
                if (kill) {
                    f.kill(victim, "follower");
                } else {
                    f.partition(Set.of(victim), f.everyoneBut(Set.of(victim)));
                }
            }
            if (grow) {
                List<String> spares = f.membership().spares();
                String spare = spares.get(r.nextInt(spares.size()));
                boolean learner = r.nextBoolean();
                // A cluster that has run a while has purged its log: the new member
                // catches up from the leader's snapshot.
                f.snapshot(f.leader());
                if (f.membership().add(spare, learner) && learner) {
                    f.sleep(between(r, 500, 1500));
                    f.membership().promote(spare);
                }
            } else {
                List<String> candidates = new ArrayList<>(members);
                candidates.remove(victim);
                f.membership().remove(candidates.get(r.nextInt(candidates.size())));
            }
            f.sleep(between(r, 500, 1500));
            f.healAll();
        }
    }

    /**
     * The first round of {@code membership}: a member loses its disk and is started again under its
     * old id, at the moment that makes a guardless start lose committed entries. Of the members
     * A (leading), B and C: C is cut off and falls behind while A and B commit; B is killed and its
     * data deleted; A is cut off and C comes back; B is started empty. A correct server refuses B
     * (exit 71), and the cluster waits for A; B is then replaced (removed, added back empty as a
     * learner, promoted). Without the guard, B votes for C, whose log lacks what A and B committed:
     * C leads, and grants tokens that were granted already.
     */
    static void loseADisk(Faults f, Random r) throws java.io.IOException, InterruptedException {
        String a = f.leader();
        List<String> others = f.followers(a);
        Collections.shuffle(others, r);
        String b = others.get(0);
        String c = others.get(1);
        f.partition(Set.of(c), f.everyoneBut(Set.of(c)));
        f.sleepFully(between(r, 1500, 2000));
        f.healNetwork();
        f.partition(Set.of(a), f.everyoneBut(Set.of(a)));
        boolean started = f.membership().rejoinEmpty(b);
        f.sleepFully(Duration.ofSeconds(4)); // an election among B and C, if B votes
        f.healNetwork();
        // Refused, B is still a member that cannot start: replace it before anything restarts it.
        if (!started && f.membership().remove(b)) {
            f.snapshot(f.leader()); // B comes back from the leader's snapshot, as after a long life
            if (f.membership().add(b, true)) {
                f.sleepFully(Duration.ofSeconds(1));
                f.membership().promote(b);
            }
        }
        f.healAll();
    }

    /**
     * A round of {@code membership}: a spare is added (as a learner or a voter) and the leader is
     * SIGKILLed 0 to 2 s after it was asked, which hits every phase of the change over runs (the
     * spare not yet told, being staged, counted in the joint configuration, done); the addition is
     * then retried through the next leader until the spare is a member ({@code interrupted-add}
     * checks that it is, within a minute of the election). A learner is then promoted.
     */
    static void interruptAnAdd(Faults f, Random r) throws java.io.IOException, InterruptedException {
        List<String> spares = f.membership().spares();
        if (spares.isEmpty()) {
            return;
        }
        String spare = spares.get(r.nextInt(spares.size()));
        boolean learner = r.nextBoolean();
        if (f.membership().interruptAdd(spare, learner, between(r, 0, 2000), r.nextBoolean()) && learner) {
            f.membership().promote(spare);
        }
        f.healAll();
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }
}
