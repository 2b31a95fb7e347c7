package io.holdfast.verify.run;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The faults of the {@code keys} scenario ({@link Scenarios}): the leader's death, a split, and
 * answers lost mid-request, so that the keys workload's transactions are retried across each; and
 * first a client's session lost while the service still counts it alive, so that a group member's
 * key moves between two live sessions of one client.
 */
final class KeysRounds {
    /** How long {@link #splitAcrossRestart} splits its client: past the TTL of 3 s, not by much. */
    static final long SPLIT_MILLIS = 3800;

    /** When in the split the leader is killed: late, so that the new leader's fresh TTLs end late. */
    static final long KILL_AFTER_MILLIS = 2000;

    private KeysRounds() {}

    /**
     * First, after 2 to 2.5 s (the workers have joined their group by then), one client split
     * from everyone across a restart of the leader ({@link #splitAcrossRestart}). Then each round,
     * after 1 to 2 s: the leader SIGKILLed and restarted (two rounds in five), a minority of nodes
     * with some clients split from the rest for 2 to 4 s (one in five), or for about 2 s the
     * clients' connections reset again and again mid-request, so that answers are lost and calls
     * retried (two in five).
     */
    static void run(Faults f, Random r) throws java.io.IOException, InterruptedException {
        if (f.sleep(between(r, 2000, 2500))) {
            splitAcrossRestart(f, r);
        }
        while (f.sleep(between(r, 1000, 2000))) {
            int pick = r.nextInt(5);
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

    /**
     * One client split from every node and client for {@value #SPLIT_MILLIS} ms, past the session
     * TTL ({@link Scenarios#TTL}), with the leader SIGKILLed {@value #KILL_AFTER_MILLIS} ms in: the
     * client reports its session lost a TTL after its last acknowledged heartbeat, but the new
     * leader gave every session a fresh TTL on its election, so the service still counts the lost
     * session alive when the split heals and the client's group recipe moves its member's key to
     * its new session: the window a move of a key between sessions must be right in. The leader
     * starts again after the heal. Both waits run whole, past the end of a short run, since a
     * shorter split loses no session.
     */
    private static void splitAcrossRestart(Faults f, Random r) throws java.io.IOException, InterruptedException {
        List<String> clients = f.clientIds();
        Set<String> alone = Set.of(clients.get(r.nextInt(clients.size())));
        f.partition(alone, f.everyoneBut(alone));
        f.sleepFully(Duration.ofMillis(KILL_AFTER_MILLIS));
        String leader = f.leader();
        f.kill(leader, "leader");
        f.sleepFully(Duration.ofMillis(SPLIT_MILLIS - KILL_AFTER_MILLIS));
        f.healNetwork();
        f.start(leader);
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }
}
