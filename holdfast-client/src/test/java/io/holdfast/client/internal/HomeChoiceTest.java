package io.holdfast.client.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.endpoint.ClientPort;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The home member of a transport (ADR 0003): a seeded choice among the addresses given, and the
 * fall-back to following the leader when the home's build does not serve sessions at every member.
 */
class HomeChoiceTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private static final List<MemberAddress> THREE = List.of(
            new MemberAddress("127.0.0.1", 1), new MemberAddress("127.0.0.1", 2), new MemberAddress("127.0.0.1", 3));

    @Test
    void theHomeIsTheSeedsChoiceAndSeedsSpreadOverTheMembers() {
        Set<MemberAddress> homes = new HashSet<>();
        for (long seed = 0; seed < 60; seed++) {
            MemberAddress first;
            try (ClusterTransport t =
                    new ClusterTransport(THREE, Duration.ofSeconds(1), null, null, new Random(seed))) {
                first = t.target();
            }
            try (ClusterTransport again =
                    new ClusterTransport(THREE, Duration.ofSeconds(1), null, null, new Random(seed))) {
                assertThat(again.target()).as("seed %d", seed).isEqualTo(first);
            }
            homes.add(first);
        }
        assertThat(homes).containsExactlyInAnyOrderElementsOf(THREE);
        try (ClusterTransport leaderFirst = new ClusterTransport(THREE, Duration.ofSeconds(1))) {
            assertThat(leaderFirst.target())
                    .as("without a home: the first member")
                    .isEqualTo(THREE.get(0));
        }
    }

    @Test
    void aHomeThatNamesTheLeaderForAWriteRunsAnOlderBuildAndTheTransportFollowsTheLeader() throws Exception {
        LocalNode node =
                LocalNode.named("home-old-build-" + UUID.randomUUID().toString().substring(0, 8));
        ClientPort leader = closing.add(ClientPort.start("127.0.0.1", 0, new LocalTransport(node)));
        NotLeaderService oldFollower = new NotLeaderService("127.0.0.1:" + leader.port());
        ClientPort follower = closing.add(ClientPort.start("127.0.0.1", 0, oldFollower));
        MemberAddress atFollower = new MemberAddress("127.0.0.1", follower.port());
        MemberAddress atLeader = new MemberAddress("127.0.0.1", leader.port());
        ClusterTransport transport =
                closing.add(homedOnFirst(List.of(atFollower, atLeader), Duration.ofSeconds(10))); // the old follower
        assertThat(transport.target()).isEqualTo(atFollower);

        Reply opened = transport
                .submit(new Command.OpenSession("home-old-build-session-1", "test", 30_000, 0))
                .get(10, TimeUnit.SECONDS);

        assertThat(opened).isInstanceOf(Reply.Ok.class);
        assertThat(transport.target()).as("follows the leader from now on").isEqualTo(atLeader);
        assertThat(transport.members().isHome()).isFalse();
        int before = oldFollower.calls.get();
        assertThat(transport.keepAlive("home-old-build-session-1").get(10, TimeUnit.SECONDS))
                .isInstanceOf(Reply.Ok.class);
        assertThat(oldFollower.calls.get())
                .as("the next calls go straight to the leader")
                .isEqualTo(before);
    }

    /**
     * The clients of a member that fails move to the others evenly, each picking again as it
     * picked its first home: all of them moving to the failed member's successor put twice its
     * share on that one (the fleet generator, 2026-11-29).
     */
    @Test
    void aHomeThatFailsMovesToAnotherMemberPickedAgainSoItsClientsSpread() {
        java.util.Map<MemberAddress, Integer> movedTo = new java.util.HashMap<>();
        Random pick = new Random(42); // one sequence: the first draws of Random(0), Random(1)… are alike
        for (long seed = 0; seed < 60; seed++) {
            try (ClusterTransport t = new ClusterTransport(THREE, Duration.ofSeconds(1), null, null, new Random(seed) {
                private boolean first = true;

                @Override
                public int nextInt(int bound) {
                    if (first) {
                        first = false;
                        return 1; // every transport's home is the second member
                    }
                    return pick.nextInt(bound);
                }
            })) {
                Members members = t.members();
                Members.Member failed = members.leader();
                assertThat(failed.address).isEqualTo(THREE.get(1));
                members.moveOnFrom(failed);
                MemberAddress now = members.leader().address;
                assertThat(now).as("seed %d: another member", seed).isNotEqualTo(THREE.get(1));
                assertThat(members.nextUntried(failed, Set.of(failed)).address)
                        .as("seed %d: a call in flight goes on at the new home", seed)
                        .isEqualTo(now);
                movedTo.merge(now, 1, Integer::sum);
            }
        }
        assertThat(movedTo.keySet())
                .as("the homes after the failure (all on the successor before)")
                .containsExactlyInAnyOrder(THREE.get(0), THREE.get(2));
        assertThat(movedTo.values()).allSatisfy(n -> assertThat(n).isBetween(15, 45));
    }

    /**
     * With {@code calls=first} (every pick 0) a failed home walks the list: with the first two
     * members down it reaches the third, where picking "the first other member" kept it between
     * the two dead ones.
     */
    @Test
    void aFirstListedHomeThatFailsWalksTheListPastTwoDeadMembers() {
        List<MemberAddress> four = List.of(THREE.get(0), THREE.get(1), THREE.get(2), new MemberAddress("127.0.0.1", 4));
        try (ClusterTransport t = new ClusterTransport(four, Duration.ofSeconds(1), null, null, () -> 0L)) {
            Members members = t.members();
            assertThat(members.leader().address).isEqualTo(four.get(0));
            members.moveOnFrom(members.leader());
            assertThat(members.leader().address).isEqualTo(four.get(1));
            members.moveOnFrom(members.leader());
            assertThat(members.leader().address).as("past the two dead ones").isEqualTo(four.get(2));
        }
    }

    /** A plaintext transport whose home is the first member, and whose next home each time is the next. */
    static ClusterTransport homedOnFirst(List<MemberAddress> members, Duration callTimeout) {
        return new ClusterTransport(members, callTimeout, null, null, new Random(0) {
            @Override
            public int nextInt(int bound) {
                return 0;
            }
        });
    }
}
