package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedisKeyLayoutTest {
    private final RedisKeyLayout slotted = new RedisKeyLayout("holdfast:", true);
    private final RedisKeyLayout plain = new RedisKeyLayout("holdfast:", false);

    private static List<String> allKeys(RedisKeyLayout keys, String name) {
        return List.of(
                keys.holders(name), keys.queue(name), keys.waiters(name), keys.counter(name), keys.arrivals(name));
    }

    /** Names with braces and percent signs too: a '}' first would make an empty tag, hashed as the whole key. */
    @ParameterizedTest
    @ValueSource(strings = {"orders/42", "}x", "a}b", "{x}", "{", "}", "%7D", "a%25}b{c}", "ü/名前"})
    void everyKeyOfANameIsInTheNamesSlotOnACluster(String name) {
        List<Integer> slots = allKeys(slotted, name).stream()
                .map(SlotHash::getSlot)
                .distinct()
                .toList();
        assertThat(slots).as("the slots of %s", allKeys(slotted, name)).hasSize(1);
        assertThat(slotted.name(RedisKeyLayout.HOLDERS, slotted.holders(name))).isEqualTo(name);
        assertThat(slotted.name(RedisKeyLayout.QUEUE, slotted.queue(name))).isEqualTo(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders/42", "}x", "a}b", "%7D"})
    void namesFoundByAScanAreTheNamesThatMadeTheKeys(String name) {
        for (RedisKeyLayout keys : new RedisKeyLayout[] {slotted, plain}) {
            String pattern = keys.pattern(RedisKeyLayout.HOLDERS, name.substring(0, 1));
            String key = keys.holders(name);
            assertThat(globMatches(pattern, key))
                    .as("%s matches %s", key, pattern)
                    .isTrue();
            assertThat(keys.name(RedisKeyLayout.HOLDERS, key)).isEqualTo(name);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "a%", "a%7", "}"})
    void distinctNamesHaveDistinctKeys(String name) {
        Stream.of("a%7D", "a}", "a%25", "a%")
                .filter(other -> !other.equals(name))
                .forEach(other -> assertThat(slotted.holders(other)).isNotEqualTo(slotted.holders(name)));
    }

    /** On one Redis, one counter for every name, as before. */
    @ParameterizedTest
    @ValueSource(strings = {"orders/42"})
    void oneRedisKeepsOneCounterForEveryName(String name) {
        assertThat(plain.counter(name)).isEqualTo("holdfast:token");
        assertThat(plain.arrivals(name)).isEqualTo("holdfast:seq");
        assertThat(plain.holders(name)).isEqualTo("holdfast:lock:orders/42");
        assertThat(slotted.counter(name)).isEqualTo("holdfast:token:{orders/42}");
    }

    /** SCAN's glob, for the patterns {@link RedisKeyLayout#pattern} makes: escapes and a final '*'. */
    private static boolean globMatches(String pattern, String key) {
        StringBuilder literal = new StringBuilder();
        for (int i = 0; i < pattern.length() - 1; i++) {
            char c = pattern.charAt(i);
            literal.append(c == '\\' ? pattern.charAt(++i) : c);
        }
        return pattern.endsWith("*") && key.startsWith(literal.toString());
    }
}
