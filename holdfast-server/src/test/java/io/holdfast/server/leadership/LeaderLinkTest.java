package io.holdfast.server.leadership;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;

/** What a member says when no leader answered it: words, not Ratis's request dump. */
class LeaderLinkTest {
    @Test
    void triesRunOutAreSaidPlainlyWithWhatTheLastOneMet() {
        RaftClientRequest request = RaftClientRequest.newBuilder()
                .setClientId(ClientId.randomId())
                .setServerId(RaftPeerId.valueOf("n1"))
                .setGroupId(RaftGroupId.randomId())
                .setCallId(13)
                .setType(RaftClientRequest.readRequestType())
                .build();
        RaftRetryFailureException out = new RaftRetryFailureException(
                request,
                3,
                RetryPolicies.retryUpToMaximumCountWithFixedSleep(3, TimeDuration.ONE_MINUTE),
                new ConnectException("Connection refused: /127.0.0.1:4654"));

        String why = LeaderLink.why(new java.util.concurrent.CompletionException(out));

        assertThat(why)
                .isEqualTo("every member was asked and none answered as leader (the last: Connection refused:"
                        + " /127.0.0.1:4654); an election may be under way")
                .doesNotContain("RaftClientRequest", "cid=", "RetryLimited");
        assertThat(LeaderLink.why(new java.io.IOException("closed"))).isEqualTo("closed");
    }
}
