package io.holdfast.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SessionIdTest {
    /**
     * An id that begins with '-' is read by a command line as an option ({@code holdfast sessions
     * end ID} fails with "Missing required parameter: 'ID'"). A generator that lets one id in 64
     * begin with it gives one in 20,000 ids with probability 1 - (63/64)^20000, all but certain.
     */
    @Test
    void noIdBeginsWithADashOrAnUnderscore() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            String id = SessionIds.newId();
            assertThat(id).hasSize(22).matches("[A-Za-f][A-Za-z0-9_-]{21}");
            assertThat(SessionIds.isWellFormedChoice(id)).as(id).isTrue();
            seen.add(id);
        }
        assertThat(seen).as("ids are random").hasSize(20_000);
    }

    /** The table's rule and an opener's choice, from one place: the table may hold what no opener may choose. */
    @Test
    void theTablesRuleAndAChoiceDifferOnlyInLengthAndALeadingDash() {
        String sixteen = "abcdefghijklmnop";
        assertThat(SessionIds.problem(sixteen)).isNull();
        assertThat(SessionIds.isWellFormedChoice(sixteen))
                .as("shorter than a new id")
                .isFalse();
        String dash = "-" + "a".repeat(21);
        assertThat(SessionIds.problem(dash)).isNull();
        assertThat(SessionIds.isWellFormedChoice(dash)).as("a leading dash").isFalse();
        assertThat(SessionIds.isWellFormedChoice("_" + "a".repeat(21))).isTrue();
        assertThat(SessionIds.problem("a".repeat(15))).isEqualTo("session id must be 16 to 128 characters");
        assertThat(SessionIds.problem("a".repeat(129))).isEqualTo("session id must be 16 to 128 characters");
        assertThat(SessionIds.problem(null)).isEqualTo("session id must be 16 to 128 characters");
        assertThat(SessionIds.problem("a".repeat(20) + "/x")).isEqualTo("session id may only contain A-Z a-z 0-9 - _");
        assertThat(SessionIds.isWellFormedChoice("a".repeat(128))).isTrue();
        assertThat(SessionIds.isWellFormedChoice("a".repeat(20) + ".xx")).isFalse();
    }
}
