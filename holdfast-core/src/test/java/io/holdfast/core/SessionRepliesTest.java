package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

/** The replies a session remembers: one kept without a map, more in a map, the same answers either way. */
class SessionRepliesTest {
    private final Session s = new Session("s", null, "c", 10_000, 0, 0);

    @Test
    void oneReplyOrSeveralAreRememberedReplacedAndLetGoAlike() {
        assertThat(s.cachedReply(1)).isNull();
        s.remember(1, new Reply.Granted(7));
        s.remember(3, new Reply.Granted(9));
        s.remember(2, new Reply.Ok(0));
        assertThat(s.remembered()).containsOnlyKeys(1L, 2L, 3L);
        assertThat(s.cachedReply(1)).isEqualTo(new Reply.Granted(7));
        assertThat(s.cachedReply(2)).isEqualTo(new Reply.Ok(0));

        s.updateRemembered(3, new Reply.Granted(10));
        s.updateRemembered(4, new Reply.Granted(11)); // not remembered: nothing happens
        assertThat(s.cachedReply(3)).isEqualTo(new Reply.Granted(10));
        assertThat(s.cachedReply(4)).isNull();

        s.acknowledge(2); // 1 goes; 2 and 3 stay
        assertThat(s.remembered()).containsOnlyKeys(2L, 3L);
        assertThat(s.cachedReply(1)).isNull();
        s.remember(5, new Reply.Ok(0));
        assertThat(s.remembered()).containsOnlyKeys(2L, 3L, 5L);
        assertThat(s.remembersAny(r -> r instanceof Reply.Granted)).isTrue();

        s.acknowledge(4);
        assertThat(s.remembered()).containsOnlyKeys(5L);
        assertThat(s.remembersAny(r -> r instanceof Reply.Granted)).isFalse();
        s.acknowledge(3); // below what was acknowledged: nothing changes
        assertThat(s.cachedReply(5)).isEqualTo(new Reply.Ok(0));
        s.acknowledge(6);
        assertThat(s.remembered()).isEmpty();
        s.remember(6, new Reply.Ok(0));
        assertThat(s.remembered()).containsOnlyKeys(6L);
    }
}
