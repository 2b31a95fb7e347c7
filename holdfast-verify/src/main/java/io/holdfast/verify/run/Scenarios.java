// Ceiling 530 lines, one idea: the list of scenarios and the planted bug each exposes; each entry is
// a few lines, kept in one file so the list reads as the catalogue docs/verification.md cites.
package io.holdfast.verify.run;

import static io.holdfast.verify.history.Expectation.DEPOSED_LEADER_REFUSED;
import static io.holdfast.verify.history.Expectation.HEAL_CATCH_UP;
import static io.holdfast.verify.history.Expectation.INTERRUPTED_ADD_COMPLETES;
import static io.holdfast.verify.history.Expectation.KEYS_EXERCISED;
import static io.holdfast.verify.history.Expectation.SNAPSHOT_CATCH_UP;
import static io.holdfast.verify.history.Expectation.STALE_WRITE_REFUSED;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * Every scenario the harness knows, and which one exposes each planted bug. The client session TTL
 * of a run is {@link #TTL}: pauses and cut-offs meant to cost a client its session last longer.
 */
public final class Scenarios {
    /** The clients' session TTL in every run. */
    static final Duration TTL = Duration.ofSeconds(3);

    /** The lock that {@code leader-isolated-with-holder} has a client on the old leader's side try. */
    static final String CONTENDED = "lock-p";

    /** How long a fault that must cost a client its session lasts: the TTL and 4 s to act on it. */
    private static final Duration PAST_TTL = TTL.plusSeconds(4);

    /**
     * The planted bug of the client workers (the election workload's leader ignores the end of its
     * leadership): not the nodes' ({@code PlantedBug}), so it goes to the workers.
     */
    static final String LEADER_IGNORES_LOSS = "leader-ignores-loss";

    private static final Set<String> CLIENT_BUGS = Set.of(LEADER_IGNORES_LOSS);

    /**
     * The planted bug of the harness itself: after each SIGKILL of the leader it holds every client's
     * bytes to and from the nodes for {@link Faults#PLANTED_FAILOVER_DELAY}, without recording it.
     * To the history that is a service that serves nobody for that long after losing its leader,
     * which the {@code availability} checker must catch; neither the nodes nor the workers know of it.
     */
    static final String SLOW_FAILOVER = "slow-failover";

    private static final Map<String, Scenario> ALL = new LinkedHashMap<>();

    /** Planted bug → the scenario that must turn red with it. */
    private static final Map<String, String> EXPOSED_BY = new LinkedHashMap<>();

    static {
        add(new Scenario("baseline", "no faults: the workload alone; counts spurious elections", 3, (f, r) -> {
            while (f.sleep(Duration.ofSeconds(1))) {
                // nothing to do
            }
        }));
        add(new Scenario("leader-kill", "SIGKILL the leader during acquires, restart it", 3, leaderKills(1500, 3000)));
        add(new Scenario("minority-kill", "SIGKILL one follower of three, restart it", 3, (f, r) -> {
            while (f.sleep(between(r, 1000, 2500))) {
                List<String> followers = f.followers(f.leader());
                String victim = followers.get(r.nextInt(followers.size()));
                f.kill(victim, "follower");
                f.sleep(between(r, 1500, 3000));
                f.start(victim);
            }
        }));
        add(new Scenario(
                "majority-kill", "SIGKILL two nodes of three: nothing may be acknowledged while down", 3, (f, r) -> {
                    while (f.sleep(between(r, 1500, 3000))) {
                        List<String> ids = new ArrayList<>(f.nodeIds());
                        Collections.shuffle(ids, r);
                        f.kill(ids.get(0), "majority");
                        f.kill(ids.get(1), "majority");
                        f.sleep(between(r, 1500, 3000));
                        f.start(ids.get(0));
                        f.start(ids.get(1));
                    }
                }));
        add(new Scenario(
                "all-kill",
                "SIGKILL every node at once, restart from disk: acknowledged changes survive",
                3,
                (f, r) -> {
                    while (f.sleep(between(r, 2000, 3500))) {
                        for (String n : f.nodeIds()) {
                            f.kill(n, "all");
                        }
                        for (String n : f.nodeIds()) {
                            f.start(n);
                        }
                    }
                }));
        add(new Scenario(
                "leader-isolated-with-holder",
                "partition the leader together with all clients but one from the rest, longer than a TTL",
                3,
                (f, r) -> {
                    while (f.sleep(between(r, 1000, 2000))) {
                        String leader = f.leader();
                        Set<String> side = f.withAllClientsButOne(Set.of(leader), r);
                        f.partition(side, f.everyoneBut(side));
                        long started = System.nanoTime();
                        // At once, before the old leader can know it is cut off, a client on its
                        // side tries a lock nobody uses: a leader that answers without a quorum
                        // grants it with a token the majority will hand out again.
                        String inside = side.stream()
                                .filter(f.clientIds()::contains)
                                .findFirst()
                                .orElseThrow();
                        f.contend(inside, CONTENDED, Duration.ofMillis(500), Duration.ofSeconds(5));
                        f.sleepFully(PAST_TTL.minusNanos(System.nanoTime() - started));
                        f.healNetwork();
                    }
                }));
        add(new Scenario(
                "partition",
                "a random minority/majority split of nodes and clients, healed after a while; every replica must"
                        + " catch up within 5 s of the heal",
                3,
                Set.of(HEAL_CATCH_UP),
                (f, r) -> {
                    while (f.sleep(between(r, 1000, 2000))) {
                        List<String> ids = new ArrayList<>(f.nodeIds());
                        Collections.shuffle(ids, r);
                        Set<String> minority = f.withSomeClients(Set.of(ids.get(0)), r);
                        f.partition(minority, f.everyoneBut(minority));
                        f.sleep(between(r, 2000, 4500));
                        f.healNetworkAndAwaitCatchUp();
                    }
                }));
        add(new Scenario(
                "one-way", "the leader's messages to the followers are dropped; theirs still arrive", 3, (f, r) -> {
                    while (f.sleep(between(r, 1000, 2000))) {
                        String leader = f.leader();
                        for (String follower : f.followers(leader)) {
                            f.oneWay(leader, follower);
                        }
                        f.sleep(between(r, 2500, 4000));
                        f.healNetwork();
                    }
                }));
        add(new Scenario("client-cut-off", "a client loses the whole cluster for longer than its TTL", 3, (f, r) -> {
            while (f.sleep(between(r, 500, 1500))) {
                String client = pick(f.clientIds(), r);
                Set<String> side = Set.of(client);
                f.partition(side, new LinkedHashSet<>(f.nodeIds()));
                f.sleepFully(PAST_TTL);
                f.healNetwork();
            }
        }));
        add(new Scenario(
                "client-paused",
                "SIGSTOP a client inside its critical section, and another while it waits in a queue, past their"
                        + " TTL; the late write must be refused, the dead waiter never granted",
                3,
                Set.of(STALE_WRITE_REFUSED),
                (f, r) -> {
                    while (f.sleep(between(r, 500, 1500))) {
                        String[] holder = f.clientInCriticalSection(r); // {client, key, token}
                        if (holder == null) {
                            continue;
                        }
                        // A waiter queues behind the holder and is paused first, so its session
                        // expires while the lock is still held (the holder lingers in its critical
                        // section meanwhile): a correct service drops the dead session's wait.
                        String waiter = f.pauseClientQueuedOn(r, holder[1], holder[0]);
                        if (waiter != null) {
                            // more than a heartbeat interval (TTL/4) apart: the waiter's session
                            // surely expires first
                            f.sleepFully(TTL.dividedBy(2));
                        }
                        f.pauseClient(
                                holder[0], "inside its critical section on " + holder[1] + " with token " + holder[2]);
                        f.sleepFully(PAST_TTL);
                        f.resumeClient(holder[0]);
                        if (waiter != null) {
                            f.resumeClient(waiter);
                        }
                    }
                }));
        add(new Scenario(
                "zombie-leader", "SIGSTOP the leader past the election timeout, then let it run again", 3, (f, r) -> {
                    while (f.sleep(between(r, 1000, 2000))) {
                        String leader = f.leader();
                        f.pauseNode(leader, "leader");
                        f.sleep(between(r, 2500, 4000));
                        f.resumeNode(leader);
                    }
                }));
        add(new Scenario("majority-paused", "SIGSTOP two nodes of three longer than the clients' TTL", 3, (f, r) -> {
            while (f.sleep(between(r, 1000, 2000))) {
                List<String> ids = new ArrayList<>(f.nodeIds());
                Collections.shuffle(ids, r);
                f.pauseNode(ids.get(0), "majority");
                f.pauseNode(ids.get(1), "majority");
                f.sleepFully(PAST_TTL);
                f.resumeNode(ids.get(0));
                f.resumeNode(ids.get(1));
            }
        }));
        add(new Scenario(
                "lost-replies", "close clients' connections mid-request again and again: they retry", 3, (f, r) -> {
                    while (f.sleep(between(r, 100, 400))) {
                        f.cut(pick(f.clientIds(), r));
                    }
                }));
        add(new Scenario("rolling-restart", "restart the nodes one by one under load", 3, (f, r) -> {
            while (f.running()) {
                for (String n : f.nodeIds()) {
                    if (!f.sleep(between(r, 800, 1500))) {
                        return;
                    }
                    f.kill(n, "rolling");
                    f.start(n);
                }
            }
        }));
        add(new Scenario(
                "snapshot-catch-up",
                "a follower is down while the leader snapshots and purges its log; it must catch up from a snapshot",
                3,
                Set.of(SNAPSHOT_CATCH_UP),
                (f, r) -> {
                    while (f.sleep(between(r, 300, 800))) {
                        String leader = f.leader();
                        List<String> followers = f.followers(leader);
                        String victim = followers.get(r.nextInt(followers.size()));
                        f.kill(victim, "follower");
                        // Work goes on; the leader snapshots twice, purging the log segments the
                        // follower misses, so it can only catch up from a snapshot.
                        CatchUpNotes.awaitProgress(f, 300, Duration.ofSeconds(20));
                        f.snapshot(f.leader());
                        CatchUpNotes.awaitProgress(f, 100, Duration.ofSeconds(10));
                        f.snapshot(f.leader());
                        f.start(victim);
                        CatchUpNotes.noteCatchUp(f, victim);
                    }
                }));
        add(new Scenario(
                "leader-transfer",
                "hand the leadership over again and again under load: to a chosen follower, to the most up-to-date"
                        + " one, and by stopping the leader as an operator does (SIGTERM), then starting it again",
                3,
                (f, r) -> {
                    while (f.sleep(between(r, 300, 1200))) {
                        String leader = f.leader();
                        int pick = r.nextInt(5);
                        if (pick == 0) {
                            f.stop(leader, "leader");
                            f.start(leader);
                        } else {
                            List<String> followers = f.followers(leader);
                            f.transferLeader(leader, pick == 1 ? null : followers.get(r.nextInt(followers.size())));
                        }
                    }
                }));
        add(new Scenario(
                "membership",
                "five slots, three members: a member loses its disk and is started again under its old id (refused,"
                        + " then replaced); an addition is interrupted by the leader's death and retried through the"
                        + " next leader; then the cluster grows and shrinks under load (a spare added as a voter, or as"
                        + " a learner then promoted; a member removed, the leader too) while a follower is killed or cut"
                        + " off; new members catch up from the leader's snapshot",
                5,
                3,
                Scenario.Load.PLAIN,
                Set.of(INTERRUPTED_ADD_COMPLETES),
                (f, r) -> {
                    MembershipRounds.loseADisk(f, r);
                    MembershipRounds.interruptAnAdd(f, r);
                    while (f.sleep(between(r, 500, 1500))) {
                        List<String> members = f.nodeIds();
                        String leader = f.leader();
                        // A fault during the change: a follower killed, or cut off from everyone.
                        List<String> others = f.followers(leader);
                        String victim = others.get(r.nextInt(others.size()));
                        boolean kill = r.nextBoolean();
                        boolean grow = members.size() <= 3 || (members.size() < 5 && r.nextBoolean());
                        if (grow && r.nextInt(3) == 0) { // the leader dies instead
                            MembershipRounds.interruptAnAdd(f, r);
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
                            List<String> spares = f.spares();
                            String spare = spares.get(r.nextInt(spares.size()));
                            boolean learner = r.nextBoolean();
                            // A cluster that has run a while has purged its log: the new member
                            // catches up from the leader's snapshot.
                            f.snapshot(f.leader());
                            if (f.addMember(spare, learner) && learner) {
                                f.sleep(between(r, 500, 1500));
                                f.promote(spare);
                            }
                        } else {
                            List<String> candidates = new ArrayList<>(members);
                            candidates.remove(victim);
                            f.removeMember(candidates.get(r.nextInt(candidates.size())));
                        }
                        f.sleep(between(r, 500, 1500));
                        f.healAll();
                    }
                }));
        add(new Scenario("slow-links", "delay the links between nodes by tens of milliseconds", 3, (f, r) -> {
            while (f.sleep(between(r, 500, 1000))) {
                for (String a : f.nodeIds()) {
                    for (String b : f.nodeIds()) {
                        if (!a.equals(b) && r.nextBoolean()) {
                            f.delay(a, b, Duration.ofMillis(10 + r.nextInt(70)));
                        }
                    }
                }
                f.sleep(between(r, 2000, 3000));
                f.healNetwork();
            }
        }));
        add(new Scenario("bridge", "five nodes split in two halves that only the middle node connects", 5, (f, r) -> {
            while (f.sleep(between(r, 1000, 2000))) {
                List<String> ids = new ArrayList<>(f.nodeIds());
                Collections.shuffle(ids, r);
                f.partition(Set.of(ids.get(0), ids.get(1)), Set.of(ids.get(3), ids.get(4)));
                f.sleep(between(r, 2500, 4000));
                f.healNetwork();
            }
        }));
        add(new Scenario(
                "multi-lock",
                "the workload also takes multi-locks of two locks; the leader is SIGKILLed and restarted",
                3,
                3,
                Scenario.Load.MULTI_LOCKS,
                Set.of(),
                leaderKills(2000, 3500)));
        add(new Scenario(
                "election",
                "candidates campaign in two elections and leaders write fenced by their epoch, observers follow;"
                        + " a leader is SIGSTOPped inside its work past its TTL, or cut off from the nodes, or the"
                        + " Raft leader is killed or hands over",
                3,
                3,
                Scenario.Load.ELECTIONS,
                Set.of(STALE_WRITE_REFUSED, DEPOSED_LEADER_REFUSED),
                Scenarios::elections));
        add(new Scenario(
                "keys",
                "transactions move money between two keys under a fencing-token compare, beside reads and short"
                        + " sessions with attached keys; the leader is SIGKILLed, the network split, answers lost",
                3,
                3,
                Scenario.Load.KEYS,
                Set.of(KEYS_EXERCISED),
                Scenarios::keys));
        add(new Scenario(
                "ring",
                "five nodes that each reach only their two neighbours; every replica must catch up within 5 s of"
                        + " the heal",
                5,
                Set.of(HEAL_CATCH_UP),
                (f, r) -> {
                    while (f.sleep(between(r, 1000, 2000))) {
                        List<String> ids = new ArrayList<>(f.nodeIds());
                        Collections.shuffle(ids, r);
                        for (int i = 0; i < 5; i++) {
                            // i reaches i±1 only: cut it from i+2 (and so, going round, from i-2)
                            f.partition(Set.of(ids.get(i)), Set.of(ids.get((i + 2) % 5)));
                        }
                        f.sleep(between(r, 2500, 4000));
                        f.healNetworkAndAwaitCatchUp();
                    }
                }));

        EXPOSED_BY.put("grant-without-quorum", "leader-isolated-with-holder");
        EXPOSED_BY.put("token-from-term", "baseline");
        EXPOSED_BY.put("release-by-anyone", "baseline");
        EXPOSED_BY.put("skipped-wakeup", "baseline");
        EXPOSED_BY.put("grant-after-expiry", "client-paused");
        EXPOSED_BY.put("retry-applied-twice", "lost-replies");
        EXPOSED_BY.put("release-lost-on-step-down", "leader-transfer");
        EXPOSED_BY.put("sent-snapshot-ignored", "membership");
        EXPOSED_BY.put("multi-lock-partial-grant", "multi-lock");
        EXPOSED_BY.put(LEADER_IGNORES_LOSS, "election");
        EXPOSED_BY.put("stale-txn-compare", "keys");
        EXPOSED_BY.put(SLOW_FAILOVER, "leader-kill");
    }

    private Scenarios() {}

    private static void add(Scenario s) {
        ALL.put(s.name(), s);
    }

    /** Every scenario, in the order {@code --scenario all} runs them. */
    static List<Scenario> all() {
        return List.copyOf(ALL.values());
    }

    static Optional<Scenario> byName(String name) {
        return Optional.ofNullable(ALL.get(name));
    }

    /** The scenario that must expose a planted bug. */
    static Optional<Scenario> exposing(String bug) {
        String name = EXPOSED_BY.get(bug);
        return name == null ? Optional.empty() : byName(name);
    }

    /** Whether a planted bug lives in the nodes (neither in the workers nor in the harness). */
    static boolean isNodeBug(String bug) {
        return bug != null && !CLIENT_BUGS.contains(bug) && !SLOW_FAILOVER.equals(bug);
    }

    /** Whether a planted bug lives in the client workers rather than in the nodes. */
    static boolean isClientBug(String bug) {
        return bug != null && CLIENT_BUGS.contains(bug);
    }

    /**
     * The faults of {@code election}. Each round, after 0.5 to 1.5 s: half the time (and always
     * first, so that a short run bites) a client is SIGSTOPped inside a step of its leader work,
     * past its TTL (a candidate is elected meanwhile; on waking the old leader's write is refused);
     * a fifth, a leader is cut off from every node past its TTL while it goes on working (it must
     * stop by itself when its leadership is no longer valid); a fifth, the Raft leader is SIGKILLed
     * and restarted; a tenth, it hands its leadership over.
     */
    private static void elections(Faults f, Random r) throws java.io.IOException, InterruptedException {
        boolean first = true;
        while (f.sleep(between(r, 500, 1500))) {
            int pick = first ? 0 : r.nextInt(10);
            first = false;
            if (pick < 7) {
                String[] leading = f.clientLeading(Duration.ofSeconds(3)); // {client, election, epoch}
                if (leading == null) {
                    continue;
                }
                String what = leading[1] + " with epoch " + leading[2];
                if (pick < 5) {
                    f.pauseClient(leading[0], "leading " + what + ", inside a step of its work");
                    f.sleepFully(PAST_TTL);
                    f.resumeClient(leading[0]);
                } else {
                    f.partition(Set.of(leading[0]), new LinkedHashSet<>(f.nodeIds()));
                    f.letLead(leading[0]);
                    f.sleepFully(PAST_TTL);
                    f.healNetwork();
                }
            } else if (pick < 9) {
                killAndRestartLeader(f, r);
            } else {
                f.transferLeader(f.leader(), null);
            }
        }
    }

    /**
     * The faults of {@code keys}. Each round, after 1 to 2 s: the leader SIGKILLed and restarted
     * (always first, and two rounds in five), a minority of nodes with some clients split from the
     * rest for 2 to 4 s (one in five), or for about 2 s the clients' connections reset again and
     * again mid-request, so that answers are lost and calls retried (two in five).
     */
    private static void keys(Faults f, Random r) throws java.io.IOException, InterruptedException {
        boolean first = true;
        while (f.sleep(between(r, 1000, 2000))) {
            int pick = first ? 0 : r.nextInt(5);
            first = false;
            if (pick < 2) {
                killAndRestartLeader(f, r);
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
                    f.cut(pick(f.clientIds(), r));
                }
            }
        }
    }

    /** SIGKILLs the leader and, 1 to 2.5 s later, starts it again. */
    private static void killAndRestartLeader(Faults f, Random r) throws java.io.IOException, InterruptedException {
        String leader = f.leader();
        f.kill(leader, "leader");
        f.sleep(between(r, 1000, 2500));
        f.start(leader);
    }

    /** The planted bugs that have an exposing scenario, in order. */
    static List<String> bugs() {
        return List.copyOf(EXPOSED_BY.keySet());
    }

    /** SIGKILLs the leader every {@code minMillis} to {@code maxMillis}, and starts it again. */
    private static Scenario.Nemesis leaderKills(long minMillis, long maxMillis) {
        return (f, r) -> {
            while (f.sleep(between(r, minMillis, maxMillis))) {
                killAndRestartLeader(f, r);
            }
        };
    }

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }

    private static String pick(List<String> from, Random r) {
        return from.get(r.nextInt(from.size()));
    }
}
