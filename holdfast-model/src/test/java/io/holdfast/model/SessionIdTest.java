package io.holdfast.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionIdTest {
    /**
     * One id in 64 used to begin with '-', which a command line reads as an option ({@code holdfast
     * sessions end ID} failed with "Missing required parameter: 'ID'" in a CI run); in 20,000 ids
     * the old generator gives one with probability 1 - (63/64)^20000, all but certain.
     */
    @Test
    void noIdBeginsWithADashOrAnUnderscore() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            String id = SessionIds.newId();
            assertThat(id).hasSize(22).matches("[A-Za-f][A-Za-z0-9_-]{21}");
            seen.add(id);
        }
        assertThat(seen).as("ids are random").hasSize(20_000);
    }
}
