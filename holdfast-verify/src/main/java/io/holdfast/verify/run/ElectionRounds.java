package io.holdfast.verify.run;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Random;
import java.util.Set;

/**
 * The faults of the {@code election} scenario ({@link Scenarios}), shaped to its workload: a client
 * caught inside a step of its leader work ({@link ClientCues#leading}) is paused or cut off past its
 * TTL, so that a deposed leader's late write meets a new leader's epoch.
 */
final class ElectionRounds {
    private ElectionRounds() {}

    /**
     * Each round, after 0.5 to 1.5 s: half the time (and always first, so that a short run bites) a
     * client is SIGSTOPped inside a step of its leader work, past its TTL (a candidate is elected
     * meanwhile; on waking the old leader's write is refused); a fifth, a leader is cut off from
     * every node past its TTL while it goes on working (it must stop by itself when its leadership
     * is no longer valid); a fifth, the Raft leader is SIGKILLed and restarted; a tenth, it hands its
     * leadership over.
     */
    static void run(Faults f, Random r) throws java.io.IOException, InterruptedException {
        boolean first = true;
        while (f.sleep(between(r, 500, 1500))) {
            int pick = first ? 0 : r.nextInt(10);
            first = false;
            if (pick < 7) {
                String[] leading = f.clientCues().leading(Duration.ofSeconds(3)); // {client, election, epoch}
                if (leading == null) {
                    continue;
                }
                String what = leading[1] + " with epoch " + leading[2];
                if (pick < 5) {
                    f.pauseClient(leading[0], "leading " + what + ", inside a step of its work");
                    f.sleepFully(Scenarios.PAST_TTL);
                    f.resumeClient(leading[0]);
                } else {
                    f.partition(Set.of(leading[0]), new LinkedHashSet<>(f.nodeIds()));
                    f.clientCues().letLead(leading[0]);
                    f.sleepFully(Scenarios.PAST_TTL);
                    f.healNetwork();
                }
            } else if (pick < 9) {
                LeaderKills.killAndRestart(f, r);
            } else {
                f.transferLeader(f.leader(), null);
            }
        }
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }
}
