package io.holdfast.server.membership;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ConflictException;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.junit.jupiter.api.Test;

class MembershipOutcomeTest {
    @Test
    void aChangeWhoseLeaderSteppedDownUnderItMayStillTakeEffect() {
        // what Ratis fails a pending setConfiguration with when its leader steps down: the change
        // may be in the log already, and commit under the next leader
        assertThatThrownBy(() ->
                        Membership.outcome("add learner n4", new LeaderSteppingDownException("n1 is stepping down")))
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOf(ConflictException.class)
                .hasMessageContaining("it may still take effect under the next leader")
                .hasMessageNotContaining("as they were");
    }

    @Test
    void aTimeoutMayStillTakeEffectAndAnyOtherRefusalLeftTheMembersAsTheyWere() {
        assertThatThrownBy(() -> Membership.outcome("remove n3", new TimeoutException()))
                .cause()
                .hasMessageContaining("it may still take effect");
        assertThatThrownBy(() -> Membership.outcome("remove n3", new IOException("the list changed meanwhile")))
                .cause()
                .isInstanceOf(ConflictException.class)
                .hasMessage("could not remove n3: the list changed meanwhile (the members are as they were)");
        assertThat(Membership.outcome("remove n3", null)).isNull();
    }
}
