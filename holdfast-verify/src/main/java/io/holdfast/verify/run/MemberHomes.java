package io.holdfast.verify.run;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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
 *       its locks on. The holder's workload is stopped for the round, so that nothing but its
 *       heartbeats goes to its home. A follower that vouched for a TTL itself (the planted bug {@code
 *       follower-extends-ttl}) shows as two holders at once.
 *   <li><b>The leader killed.</b> Clients homed on the survivors keep their sessions through the
 *       election (their held heartbeats are answered by the next leader); the killed node is started
 *       again.
 *   <li><b>A wall clock jumped.</b> A node's or a client's wall clock moves by up to an hour, ahead or
 *       behind ({@link WallClocks}); leases and TTLs are counted on monotonic clocks, so nothing a
 *       client sees of its locks may change.
 * </ol>
 *
 * The first round is a clock jump (a moment) and the second the cut-off, so that even a run of 5 s
 * has both, and the fault that exposes the bug.
 */
final class MemberHomes {
    /** The lock only the cut-off round takes: a holder on the cut-off side, then one of the majority. */
    static final String HELD = "lock-h";

    private MemberHomes() {}

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }

    static void run(Faults f, Random r) throws IOException, InterruptedException {
        int round = 0;
        while (f.sleep(between(r, 500, 1200))) {
            switch (round++ % 3) {
                case 0 -> jumpAClock(f, r);
                case 1 -> cutOffAHome(f, r);
                default -> killTheLeader(f, r);
            }
        }
    }

    private static void cutOffAHome(Faults f, Random r) throws IOException, InterruptedException {
        List<String> homes = new ArrayList<>();
        for (String n : f.followers(f.leader())) {
            if (!f.homedOn(n).isEmpty()) {
                homes.add(n);
            }
        }
        if (homes.isEmpty()) {
            return;
        }
        String home = homes.get(r.nextInt(homes.size()));
        List<String> theirs = f.homedOn(home);
        List<String> others = new ArrayList<>(f.clientIds());
        others.removeAll(theirs);
        if (others.isEmpty()) {
            return;
        }
        // A client homed on the follower takes a lock of this round's own and holds it past the
        // cut-off; once the majority must have expired its session, a client of the majority takes
        // it: the two holds may not overlap. The holder is idle meanwhile (a holder doing its work
        // elsewhere): its own calls to the others would move it off its home, whose verdicts on its
        // heartbeats are what the round is about. With its workload running, a read under way at
        // the cut moved it to a member of the majority, and the planted follower-extends-ttl went
        // uncaught in one run of three (seed 7, 5 s; CI rehearsal ci24, seeds 1 to 3).
        String holder = theirs.get(r.nextInt(theirs.size()));
        boolean stopped = f.clientCues().idle(holder, Duration.ofSeconds(5));
        f.clientCues().contend(holder, HELD, Scenarios.PAST_TTL.plusSeconds(2), Duration.ofSeconds(3));
        Set<String> side = new HashSet<>(theirs);
        side.add(home);
        f.partition(side, f.everyoneBut(side));
        long cut = System.nanoTime();
        // As soon as the majority may have expired the holder's session (a TTL after its last
        // heartbeat that reached the leader, before the cut), and again until one is granted.
        f.sleepFully(Scenarios.TTL.plusMillis(300));
        String other = others.get(r.nextInt(others.size()));
        for (int i = 0;
                i < 6
                        && System.nanoTime() - cut
                                < Scenarios.PAST_TTL.minusSeconds(1).toNanos();
                i++) {
            String answer = f.clientCues().contend(other, HELD, Duration.ofSeconds(1), Duration.ofSeconds(2));
            if (answer != null && answer.startsWith("CONTENDED OK")) {
                break;
            }
            f.sleepFully(Duration.ofMillis(300));
        }
        f.sleepFully(Scenarios.PAST_TTL.minusNanos(System.nanoTime() - cut));
        f.healNetworkAndAwaitCatchUp();
        f.clientCues().busy(holder, stopped);
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
