package io.holdfast.core;

import static io.holdfast.core.TableDriver.failed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Command.SetAccessRules;
import io.holdfast.model.Reply;
import org.junit.jupiter.api.Test;

/**
 * {@link Sessions} on its own: valid ids, idempotent reopening, the identity a session belongs to,
 * and the per-identity counts behind the sessions quota. Sessions ending with their holds and
 * waits are {@link SessionTest}.
 */
class SessionsTest {
    private static final String A = "session-aaaaaaaaaa";
    private static final String B = "session-bbbbbbbbbb";

    private final Admission admission = new Admission();
    private int extraEntries;
    private final Sessions sessions = new Sessions(admission, () -> sessionsSize() + extraEntries);

    private int sessionsSize() {
        return sessions.size();
    }

    private Reply open(String id, String identity) {
        return sessions.open(new OpenSession(id, "client", 10_000, 0), identity, 123, 0);
    }

    @Test
    void openingIsIdempotentForTheSameSettingsAndIdentity() {
        assertThat(open(A, "alice")).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(open(A, "alice")).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(sessions.size()).isEqualTo(1);
        assertThat(sessions.get(A).openedAt).isEqualTo(123);
        assertThat(failed(open(A, "bob"), ErrorCode.INVALID_ARGUMENT).message())
                .isEqualTo("session id " + A + " is already in use");
        Reply otherTtl = sessions.open(new OpenSession(A, "client", 20_000, 0), "alice", 0, 0);
        failed(otherTtl, ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void aSessionBelongsToItsIdentity() {
        open(A, null);
        open(B, "alice");
        assertThat(sessions.owns(null, A)).isTrue();
        assertThat(sessions.owns("alice", A)).isFalse();
        assertThat(sessions.owns("alice", B)).isTrue();
        assertThat(sessions.identityOf(A)).contains("");
        assertThat(sessions.identityOf(B)).contains("alice");
        assertThat(sessions.identityOf("session-cccccccccc")).isEmpty();
        assertThat(sessions.ttlMillis(B)).isEqualTo(10_000);
        assertThat(sessions.ttlMillis("session-cccccccccc")).isEqualTo(-1);
        assertThat(sessions.ids()).containsExactly(A, B);
    }

    @Test
    void malformedOpensThrowAndChangeNothing() {
        assertThatThrownBy(() -> open("short", null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> open("session-with-a-dot.", null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sessions.open(new OpenSession(A, "", 10_000, 0), null, 0, 0))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> sessions.open(new OpenSession(A, "c", 1, 0), null, 0, 0))
                .hasMessage("session TTL must be between 1000 and 600000, not 1");
        assertThat(sessions.size()).isZero();
    }

    @Test
    void quotasCountOpenSessionsPerIdentity() {
        admission.setAccessRules(
                new SetAccessRules("user alice w\nuser ops root\nrole w read *\nrole root admin *\n"
                        + "limit sessions-per-identity 1\nlimit state-entries 3\n"),
                null);
        assertThat(failed(open(A, "mallory"), ErrorCode.PERMISSION_DENIED).message())
                .isEqualTo("identity mallory is not in the access rules");
        assertThat(open(A, "alice")).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(failed(open(B, "alice"), ErrorCode.QUOTA_EXCEEDED).message())
                .isEqualTo("identity alice has 1 open sessions; the quota sessions-per-identity is 1");
        extraEntries = 2;
        failed(open(B, "ops"), ErrorCode.QUOTA_EXCEEDED);
        extraEntries = 0;
        sessions.remove(sessions.get(A));
        assertThat(open(B, "alice")).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(admission.refusals())
                .containsEntry("sessions-per-identity", 1L)
                .containsEntry("state-entries", 1L)
                .containsEntry("permission-denied", 1L);
    }

    @Test
    void recountRebuildsTheCountsFromTheSessions() {
        admission.setAccessRules(
                new SetAccessRules("user ops root\nrole root admin *\nlimit sessions-per-identity 1\n"), null);
        sessions.restore(A, "ops", "client", 10_000, 0, 0);
        sessions.recount();
        failed(open(B, "ops"), ErrorCode.QUOTA_EXCEEDED);
    }
}
