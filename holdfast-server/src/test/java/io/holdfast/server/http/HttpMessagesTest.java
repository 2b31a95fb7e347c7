package io.holdfast.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.LockTimeoutException;
import io.holdfast.model.NotLeaderException;
import io.holdfast.server.http.HttpMessages.Refused;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every HTTP route shares: statuses for the service's errors, pages, numbers and names. */
class HttpMessagesTest {

    @Test
    void everyErrorCodeHasAStatusAndKeepsItsName() {
        Map<ErrorCode, Integer> expected = Map.ofEntries(
                Map.entry(ErrorCode.INVALID_ARGUMENT, 400),
                Map.entry(ErrorCode.UNSUPPORTED, 400),
                Map.entry(ErrorCode.PERMISSION_DENIED, 403),
                Map.entry(ErrorCode.QUOTA_EXCEEDED, 429),
                Map.entry(ErrorCode.CONFLICT, 409),
                Map.entry(ErrorCode.NOT_OWNER, 409),
                Map.entry(ErrorCode.LOCK_LOST, 409),
                Map.entry(ErrorCode.DEADLOCK, 409),
                Map.entry(ErrorCode.SESSION_EXPIRED, 410),
                Map.entry(ErrorCode.TIMEOUT, 504),
                Map.entry(ErrorCode.UNAVAILABLE, 503));
        assertThat(expected.keySet()).containsExactlyInAnyOrder(ErrorCode.values());
        expected.forEach((code, status) -> {
            Refused r = HttpMessages.refused(code, "why");
            assertThat(r.status).as("%s", code).isEqualTo(status);
            assertThat(r.code).isEqualTo(code.name());
            assertThat(r).hasMessage("why");
        });
    }

    @Test
    void aFollowerNamesTheLeaderAndANodeFaultIsNoRefusal() {
        Refused r = HttpMessages.refusal(new NotLeaderException("not the leader", "10.0.0.2:7100"), () -> "n2");
        assertThat(r.status).isEqualTo(503);
        assertThat(r.code).isEqualTo("NOT_LEADER");
        assertThat(r.extra).containsEntry("leader", "n2").containsEntry("leaderClientAddress", "10.0.0.2:7100");
        Refused withHttp = HttpMessages.refusal(
                new NotLeaderException("not the leader", "10.0.0.2:7100"), () -> "n2", () -> "10.0.0.2:7102");
        assertThat(withHttp.extra).containsEntry("leaderHttpAddress", "10.0.0.2:7102");
        assertThat(HttpMessages.refusal(new LockTimeoutException("slow"), () -> "n2").status)
                .isEqualTo(504);
        Refused shuttingDown = HttpMessages.refusal(
                new java.util.concurrent.RejectedExecutionException("Task rejected from a terminated pool"),
                () -> "n2");
        assertThat(shuttingDown.status)
                .as("a call a pool refused as the node shuts down did not run: the client tries another member")
                .isEqualTo(503);
        assertThat(shuttingDown.code).isEqualTo("UNAVAILABLE");
        assertThat(HttpMessages.refusal(new IllegalStateException("a bug"), () -> "n2"))
                .as("a fault of the node is a 500, not a refusal")
                .isNull();
    }

    @Test
    void pagesAreBoundedAndDefaulted() {
        assertThat(HttpMessages.page(Map.of())).isEqualTo(HttpMessages.DEFAULT_PAGE);
        assertThat(HttpMessages.page(Map.of("limit", "1000"))).isEqualTo(1000);
        for (String bad : new String[] {"0", "1001", "-5", "ten", ""}) {
            assertThatThrownBy(() -> HttpMessages.page(Map.of("limit", bad)))
                    .isInstanceOf(Refused.class)
                    .hasMessageContaining("limit must be 1 to 1000");
        }
    }

    /** Each route's limit is the one of what it pages, not one limit of the port's. */
    @Test
    void aPageIsBoundedByTheLimitOfWhatItPages() {
        assertThat(HttpMessages.page(Map.of("limit", "1500"), 100, 2_000)).isEqualTo(1500);
        assertThat(HttpMessages.page(Map.of(), 7, 2_000)).isEqualTo(7);
        assertThatThrownBy(() -> HttpMessages.page(Map.of("limit", "31"), 10, 30))
                .isInstanceOf(Refused.class)
                .hasMessageContaining("limit must be 1 to 30, not 31");
        assertThat(HttpMessages.MAX_OPERATOR_PAGE)
                .as("an operators' page is never longer than the service allows")
                .isLessThanOrEqualTo(io.holdfast.Admin.MAX_LIMIT)
                .isLessThanOrEqualTo(io.holdfast.model.SessionPage.MAX_LIMIT);
    }

    @Test
    void namesAndPercentEncodingAreChecked() {
        assertThat(HttpMessages.checkedName("jobs/nightly")).isEqualTo("jobs/nightly");
        assertThatThrownBy(() -> HttpMessages.checkedName("")).isInstanceOf(Refused.class);
        assertThat(HttpMessages.decode("jobs%2Fa")).isEqualTo("jobs/a");
        assertThatThrownBy(() -> HttpMessages.decode("bad%zz"))
                .isInstanceOf(Refused.class)
                .hasMessageContaining("percent-encoding");
    }
}
