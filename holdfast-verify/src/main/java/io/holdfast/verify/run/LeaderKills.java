package io.holdfast.verify.run;

import java.time.Duration;
import java.util.Random;

/**
 * The leader's SIGKILL and restart, the round that {@code leader-kill} and {@code multi-lock} repeat
 * and that {@code election} and {@code keys} mix with their own faults ({@link Scenarios}).
 */
final class LeaderKills {
    private LeaderKills() {}

    /** SIGKILLs the leader every {@code minMillis} to {@code maxMillis}, and starts it again. */
    static Scenario.Nemesis every(long minMillis, long maxMillis) {
        return (f, r) -> {
            while (f.sleep(between(r, minMillis, maxMillis))) {
                killAndRestart(f, r);
            }
        };
    }

    /** SIGKILLs the leader and, 1 to 2.5 s later, starts it again. */
    static void killAndRestart(Faults f, Random r) throws java.io.IOException, InterruptedException {
        String leader = f.leader();
        f.kill(leader, "leader");
        f.sleep(between(r, 1000, 2500));
        f.start(leader);
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }
}
