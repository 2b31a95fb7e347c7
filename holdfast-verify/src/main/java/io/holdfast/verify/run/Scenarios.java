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
 * Every scenario the harness knows, the catalogue docs/verification.md cites: each entry is its name,
 * its description and its faults, a few lines, or a reference to the rounds of its own file when
 * they are shaped to a workload or a replay ({@link LeaderKills}, {@link MembershipRounds}, {@link
 * ElectionRounds}, {@link KeysRounds}). Which scenario exposes each planted bug is {@link
 * PlantedBugs}. The client session TTL of a run is {@link #TTL}: pauses and cut-offs meant to cost a
 * client its session last longer.
 */
public final class Scenarios {
    /** The clients' session TTL in every run. */
    static final Duration TTL = Duration.ofSeconds(3);

    /** The lock that {@code leader-isolated-with-holder} has a client on the old leader's side try. */
    static final String CONTENDED = "lock-p";

    /** How long a fault that must cost a client its session lasts: the TTL and 4 s to act on it. */
    static final Duration PAST_TTL = TTL.plusSeconds(4);

    private static final Map<String, Scenario> ALL = new LinkedHashMap<>();

    /** The scenarios that jump wall clocks: their processes start with shiftable ones ({@link WallClocks}). */
    private static final Set<String> CLOCK_JUMPING = Set.of("member-homes");

    /** The largest jump of a wall clock {@code member-homes} makes, either way. */
    static final Duration MAX_CLOCK_JUMP = Duration.ofHours(1);

    static {
        add(new Scenario("baseline", "no faults: the workload alone; counts spurious elections", 3, (f, r) -> {
            while (f.sleep(Duration.ofSeconds(1))) {
                // nothing to do
            }
        }));
        add(new Scenario(
                "leader-kill", "SIGKILL the leader during acquires, restart it", 3, LeaderKills.every(1500, 3000)));
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
                        f.clientCues().contend(inside, CONTENDED, Duration.ofMillis(500), Duration.ofSeconds(5));
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
                        String[] holder = f.clientCues().inCriticalSection(r); // {client, key, token}
                        if (holder == null) {
                            continue;
                        }
                        // A waiter queues behind the holder and is paused first, so its session
                        // expires while the lock is still held (the holder lingers in its critical
                        // section meanwhile): a correct service drops the dead session's wait.
                        String waiter = f.clientCues().pauseQueuedOn(r, holder[1], holder[0]);
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
                MembershipRounds::run));
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
                LeaderKills.every(2000, 3500)));
        add(new Scenario(
                "election",
                "candidates campaign in two elections and leaders write fenced by their epoch, observers follow;"
                        + " a leader is SIGSTOPped inside its work past its TTL, or cut off from the nodes, or the"
                        + " Raft leader is killed or hands over",
                3,
                3,
                Scenario.Load.ELECTIONS,
                Set.of(STALE_WRITE_REFUSED, DEPOSED_LEADER_REFUSED),
                ElectionRounds::run));
        add(new Scenario(
                "keys",
                "transactions move money between two keys under a fencing-token compare, beside reads, short"
                        + " sessions with attached keys, a group rejoined after a lost session, prefix deletes and"
                        + " leased keys; a client split past its TTL across a leader's restart, then the leader"
                        + " SIGKILLed, the network split, answers lost",
                3,
                3,
                Scenario.Load.KEYS,
                Set.of(KEYS_EXERCISED),
                KeysRounds::run));
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
        add(new Scenario(
                "member-homes",
                "clients homed on every member, followers too: a follower is cut off from the majority with some"
                        + " clients for longer than a TTL, the leader is SIGKILLed, wall clocks jump by up to an hour"
                        + " either way",
                3,
                Set.of(HEAL_CATCH_UP),
                MemberHomes::run));
    }

    private Scenarios() {}

    /** Whether the scenario's processes must start with shiftable wall clocks. */
    static boolean jumpsClocks(Scenario s) {
        return CLOCK_JUMPING.contains(s.name());
    }

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

    private static Duration between(Random r, long minMillis, long maxMillis) {
        return Faults.between(r, Duration.ofMillis(minMillis), Duration.ofMillis(maxMillis));
    }

    private static String pick(List<String> from, Random r) {
        return from.get(r.nextInt(from.size()));
    }
}
