package io.holdfast.verify.run;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The rounds of {@code member-homes} (ADR 0003): the clients keep their sessions at any member, so
 * most are homed on followers, which relay their heartbeats to the leader. Its faults, in turn:
 *
 * <ol>
 *   <li><b>A home cut off.</b> A follower and some clients on one side, the other members and
 *       clients on the other, for longer than a TTL: a client that can reach only the cut-off
 *       follower is homed there, and the follower, without a leader, must acknowledge none of its
 *       heartbeats, so the client's leases lapse before the majority expires its session and hands
 *       its locks on. A follower that vouched for a TTL itself (the planted bug {@code
 *       follower-extends-ttl}) shows as two holders at once.
 *   <li><b>The leader killed.</b> Clients homed on the survivors keep their sessions through the
 *       election (their held heartbeats are answered by the next leader); the killed node is started
 *       again.
 *   <li><b>A wall clock jumped.</b> A node's or a client's wall clock moves by up to an hour, ahead or
 *       behind ({@link WallClocks}); leases and TTLs are counted on monotonic clocks, so nothing a
 *       client sees of its locks may change.
 * </ol>
 *
 * The first round is the cut-off, so that even a short run has the fault that exposes the bug.
 */
final class MemberHomes {
    private MemberHomes() {}

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }

    static void run(Faults f, Random r) throws IOException, InterruptedException {
        int round = 0;
        while (f.sleep(between(r, 500, 1200))) {
            switch (round++ % 3) {
                case 0 -> cutOffAHome(f, r);
                case 1 -> killTheLeader(f, r);
                default -> jumpAClock(f, r);
            }
        }
    }

    private static void cutOffAHome(Faults f, Random r) throws IOException, InterruptedException {
        List<String> followers = f.followers(f.leader());
        if (followers.isEmpty()) {
            return;
        }
        String home = followers.get(r.nextInt(followers.size()));
        Set<String> side = f.withSomeClients(Set.of(home), r);
        f.partition(side, f.everyoneBut(side));
        f.sleepFully(Scenarios.PAST_TTL);
        f.healNetworkAndAwaitCatchUp();
    }

    private static void killTheLeader(Faults f, Random r) throws IOException, InterruptedException {
        String leader = f.leader();
        f.kill(leader, "leader");
        f.sleep(between(r, 1000, 2500));
        f.start(leader);
    }

    private static void jumpAClock(Faults f, Random r) throws IOException {
        List<String> processes = new ArrayList<>(f.nodeIds());
        processes.addAll(f.clientIds());
        String target = processes.get(r.nextInt(processes.size()));
        long max = Scenarios.MAX_CLOCK_JUMP.toSeconds();
        long seconds = 60 + (long) (r.nextDouble() * (max - 60));
        f.jumpClock(target, r.nextBoolean() ? seconds : -seconds);
    }
}
