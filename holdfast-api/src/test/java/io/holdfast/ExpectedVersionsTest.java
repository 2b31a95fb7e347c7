package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * A version conflict's words, pinned here once: the server's table and every store provider refuse
 * a write that expected another version with {@link ExpectedVersions}, in the words of {@code
 * clients/vectors/messages.json} ({@code versionConflict}).
 */
class ExpectedVersionsTest {
    @Test
    void anyVersionMatchesEveryVersionAndZeroAnAbsentKey() {
        assertThat(ExpectedVersions.matches(Keys.ANY_VERSION, 0)).isTrue();
        assertThat(ExpectedVersions.matches(Keys.ANY_VERSION, 7)).isTrue();
        assertThat(ExpectedVersions.matches(0, 0)).isTrue();
        assertThat(ExpectedVersions.matches(3, 3)).isTrue();
        assertThat(ExpectedVersions.matches(0, 1)).isFalse();
        assertThat(ExpectedVersions.matches(2, 3)).isFalse();
        assertThat(ExpectedVersions.refusal("k", 3, 3)).isNull();
        assertThat(ExpectedVersions.refusal("k", Keys.ANY_VERSION, 9)).isNull();
        assertThatCode(() -> ExpectedVersions.check("k", Keys.ANY_VERSION, 9)).doesNotThrowAnyException();
        assertThat(ExpectedVersions.REFUSED).isEqualTo(ErrorCode.CONFLICT);
    }

    @Test
    void aConflictIsWordedAsTheSharedVectorsSayAndCarriesTheVersionFound() {
        for (JsonNode e : MessageVectorsTest.examples("versionConflict")) {
            String key = e.get("key").asText();
            long version = e.get("version").asLong();
            long expected = e.get("expected").asLong();
            String message = e.get("message").asText();
            assertThat(ExpectedVersions.refusal(key, expected, version)).isEqualTo(message);
            assertThat(ExpectedVersions.conflict(key, expected, version))
                    .hasMessage(message)
                    .satisfies(c -> assertThat(c.currentVersion()).isEqualTo(version))
                    .satisfies(c -> assertThat(c.code()).isEqualTo(ExpectedVersions.REFUSED));
            assertThatThrownBy(() -> ExpectedVersions.check(key, expected, version))
                    .isInstanceOfSatisfying(
                            ConflictException.class,
                            c -> assertThat(c.currentVersion()).isEqualTo(version))
                    .hasMessage(message);
        }
    }
}
