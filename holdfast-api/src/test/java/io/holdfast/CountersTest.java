package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The counter rule's words, pinned here once: the server's table, every store provider and the Redis
 * script's caller answer a refused add with {@link Counters#refusal}, and the provider contract
 * suite holds each of them to it. The words are those of {@code clients/vectors/messages.json}
 * ({@code notACounter}, {@code counterOverflow}), which the Python, Node and Go clients' tests hold
 * their counter reads to.
 */
class CountersTest {
    @Test
    void aCounterIsEightBytesBigEndianAndAnAbsentKeyCountsAsZero() {
        assertThat(Counters.encode(258)).containsExactly(0, 0, 0, 0, 0, 0, 1, 2);
        assertThat(Counters.decode("k", Counters.encode(-7))).isEqualTo(-7);
        assertThat(Counters.decode("k", null)).isZero();
        assertThat(Counters.add("k", null, 5)).isEqualTo(5);
        assertThat(Counters.add("k", Counters.encode(Long.MIN_VALUE), Long.MAX_VALUE))
                .isEqualTo(-1);
        assertThat(new KeyEntry("k", 1, Counters.encode(42), null).counter()).isEqualTo(42);
        assertThat(Counters.REFUSED).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void aValueOfAnotherLengthIsNoCounter() {
        assertThat(Counters.refusal("jobs/last", "seven".getBytes(), 1))
                .isEqualTo("jobs/last holds 5 bytes, not a counter (exactly 8 bytes)");
        assertThat(Counters.refusal("e", new byte[0], 0)).isEqualTo("e holds 0 bytes, not a counter (exactly 8 bytes)");
        assertThatThrownBy(() -> Counters.add("jobs/last", "seven".getBytes(), 1))
                .isInstanceOfSatisfying(
                        InvalidArgumentException.class,
                        e -> assertThat(e.code()).isEqualTo(Counters.REFUSED))
                .hasMessage("jobs/last holds 5 bytes, not a counter (exactly 8 bytes)");
        assertThatThrownBy(() -> new KeyEntry("jobs/last", 3, "seven".getBytes(), null).counter())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("jobs/last holds 5 bytes, not a counter (exactly 8 bytes)");
    }

    @Test
    void aValueOfAnotherLengthIsWordedAsTheSharedVectorsSay() {
        for (JsonNode e : MessageVectorsTest.examples("notACounter")) {
            String key = e.get("key").asText();
            byte[] value = new byte[e.get("valueBytes").asInt()];
            String message = e.get("message").asText();
            assertThat(Counters.refusal(key, value, 1)).isEqualTo(message);
            assertThatThrownBy(() -> new KeyEntry(key, 1, value, null).counter())
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage(message);
        }
    }

    @Test
    void anOverflowIsWordedAsTheSharedVectorsSay() {
        for (JsonNode e : MessageVectorsTest.examples("counterOverflow")) {
            String key = e.get("key").asText();
            long count = Long.parseLong(e.get("count").asText());
            long delta = Long.parseLong(e.get("delta").asText());
            String message = e.get("message").asText();
            assertThat(Counters.refusal(key, Counters.encode(count), delta)).isEqualTo(message);
            assertThatThrownBy(() -> Counters.add(key, Counters.encode(count), delta))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage(message);
        }
    }

    @Test
    void aSumOutsideSixtyFourBitsOverflowsEitherWay() {
        assertThat(Counters.refusal("hits", Counters.encode(Long.MAX_VALUE), 1))
                .isEqualTo("hits is 9223372036854775807; adding 1 would overflow a 64-bit counter");
        assertThat(Counters.refusal("hits", Counters.encode(Long.MIN_VALUE), -1))
                .isEqualTo("hits is -9223372036854775808; adding -1 would overflow a 64-bit counter");
        assertThat(Counters.refusal("hits", Counters.encode(Long.MAX_VALUE), 0)).isNull();
        assertThat(Counters.refusal("hits", null, Long.MIN_VALUE)).isNull();
        assertThatThrownBy(() -> Counters.add("hits", Counters.encode(Long.MAX_VALUE - 1), 2))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("hits is 9223372036854775806; adding 2 would overflow a 64-bit counter");
    }
}
