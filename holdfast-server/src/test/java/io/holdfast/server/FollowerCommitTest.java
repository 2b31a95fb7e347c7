package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A follower learns of a commit at once, not with the leader's next heartbeat ({@code
 * CommitWakeups}): a client homed on a follower gets each write answered once the follower has
 * applied it, so a heartbeat's wait would be in every write. With a 4 s election timeout, Ratis's
 * heartbeat comes 1 to 2 s after the last answer; each acquire and release at a follower took that
 * long before the leader's appenders were woken at each commit (and 408 ms per pair with the usual
 * 400 ms timeout, against 3 ms at the leader).
 */
class FollowerCommitTest {
    @Test
    void aWriteAtAFollowerIsAnsweredWithoutWaitingForAHeartbeat() throws Exception {
        try (TestCluster cluster = new TestCluster(3, Duration.ofSeconds(4))) {
            cluster.awaitLeader(Duration.ofSeconds(30));
            int leader = cluster.leaderIndex();
            int follower = (leader + 1) % 3;
            try (LockClient client = LockClient.open(homedOn(cluster, follower), ClientOptions.defaults())) {
                long[] pairs = new long[12];
                for (int i = 0; i < pairs.length; i++) {
                    long start = System.nanoTime();
                    Lease lease = client.lock("at-a-follower").acquire(Duration.ofSeconds(10));
                    lease.close();
                    pairs[i] = (System.nanoTime() - start) / 1_000_000;
                }
                assertThat(cluster.leaderIndex())
                        .as("the leader did not change")
                        .isEqualTo(leader);
                long[] sorted = pairs.clone();
                Arrays.sort(sorted);
                // Two writes per pair, each a heartbeat's wait (1 to 2 s) without the wake-ups, so
                // 2 s or more a pair: a median under 1.5 s rules that out. (0.8 s, the bound before,
                // failed at 970 ms with a CI rehearsal and a 20,000-session benchmark on 2 cores.)
                assertThat(sorted[sorted.length / 2])
                        .as("the median ms of an acquire and a release at a follower, of %s", Arrays.toString(pairs))
                        .isLessThan(1_500);
            }
        }
    }

    /** The cluster's URI with member {@code home} first, and {@code calls=first}: the client's home. */
    static String homedOn(TestCluster cluster, int home) {
        String plain = cluster.uri();
        List<String> members = new ArrayList<>(
                Arrays.asList(plain.substring("holdfast://".length()).split(",")));
        String first = members.remove(home);
        members.add(0, first);
        return "holdfast://" + String.join(",", members) + "?calls=first";
    }
}
