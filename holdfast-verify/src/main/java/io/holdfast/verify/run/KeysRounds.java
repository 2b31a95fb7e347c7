package io.holdfast.verify.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The faults of the {@code keys} scenario ({@link Scenarios}): the leader's death, a split, and
 * answers lost mid-request, so that the keys workload's transactions are retried across each.
 */
final class KeysRounds {
    private KeysRounds() {}

    /**
     * Each round, after 1 to 2 s: the leader SIGKILLed and restarted (always first, and two rounds
     * in five), a minority of nodes with some clients split from the rest for 2 to 4 s (one in
     * five), or for about 2 s the clients' connections reset again and again mid-request, so that
     * answers are lost and calls retried (two in five).
     */
    static void run(Faults f, Random r) throws java.io.IOException, InterruptedException {
        boolean first = true;
        while (f.sleep(between(r, 1000, 2000))) {
            int pick = first ? 0 : r.nextInt(5);
            first = false;
            if (pick < 2) {
                LeaderKills.killAndRestart(f, r);
            } else if (pick < 3) {
                List<String> ids = new ArrayList<>(f.nodeIds());
                Collections.shuffle(ids, r);
                Set<String> minority = f.withSomeClients(Set.of(ids.get(0)), r);
                f.partition(minority, f.everyoneBut(minority));
                f.sleep(between(r, 2000, 4000));
                f.healNetwork();
            } else {
                long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                while (System.nanoTime() < until && f.sleep(between(r, 100, 400))) {
                    List<String> clients = f.clientIds();
                    f.cut(clients.get(r.nextInt(clients.size())));
                }
            }
        }
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }
}
