package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.internal.Causes;
import java.io.IOException;
import java.net.ConnectException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class CausesTest {
    @Test
    void thePoolsTimeoutIsFollowedByTheDriversReasonTwoLinksDown() {
        Exception e = new RuntimeException(
                "Connection is not available, request timed out after 10000ms",
                new SQLException("Connection to 127.0.0.1:5999 refused.", new ConnectException("Connection refused")));
        assertThat(Causes.withCause("creating the lock tables failed", e))
                .isEqualTo("creating the lock tables failed: Connection refused");
        assertThat(Causes.append(
                        "creating the lock tables failed", Causes.deepest(e, c -> !(c instanceof SQLException))))
                .isEqualTo("creating the lock tables failed: Connection to 127.0.0.1:5999 refused.");
    }

    @Test
    void aCauseTheMessageAlreadySaysIsNotRepeated() {
        Exception e = new IOException("x", new ConnectException("Connection refused"));
        assertThat(Causes.withCause("redis: connection refused at 127.0.0.1:1", e))
                .isEqualTo("redis: connection refused at 127.0.0.1:1");
        assertThat(Causes.withCause("unable to connect: Connection refused", e))
                .isEqualTo("unable to connect: Connection refused");
    }

    @Test
    void blankMessagesAndSkippedTypesAreNotCauses() {
        Exception e = new RuntimeException("top", new IllegalStateException("  ", new IOException("disk full")));
        assertThat(Causes.deepest(e)).hasMessage("disk full");
        assertThat(Causes.deepest(e, c -> c instanceof IOException)).hasMessage("top");
        assertThat(Causes.withCause("m", null)).isEqualTo("m");
    }

    @Test
    void aMultiLineCauseBecomesOneLine() {
        assertThat(Causes.withCause("failed", new RuntimeException("a", new IOException("first\n   second"))))
                .isEqualTo("failed: first second");
    }

    @Test
    void aCyclicChainEnds() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(Causes.deepest(a)).isNotNull();
    }

    @Test
    void findReturnsTheFirstCauseOfATypeAndNullWithoutOne() {
        IOException io = new IOException("disk full");
        Exception e = new RuntimeException("top", new IllegalStateException("mid", io));
        assertThat(Causes.find(e, IOException.class)).isSameAs(io);
        assertThat(Causes.find(e, RuntimeException.class)).isSameAs(e);
        assertThat((Object) Causes.find(e, SQLException.class)).isNull();
        assertThat(Causes.find(null, IOException.class)).isNull();
        RuntimeException a = new RuntimeException("a");
        a.initCause(new RuntimeException("b", a));
        assertThat(Causes.find(a, IOException.class)).as("a cyclic chain ends").isNull();
    }
}
