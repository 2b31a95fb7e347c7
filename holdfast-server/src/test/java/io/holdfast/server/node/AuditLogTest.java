package io.holdfast.server.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Event;
import io.holdfast.model.Reply;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which applied commands {@link AuditLog} records, and what each entry says. */
class AuditLogTest {
    private static final Command.Invocation INV = new Command.Invocation("session-0123456789", 1, 0);

    private final AuditLog audit = new AuditLog("n1");

    @Test
    void aRevokeRecordsTheTokensTakenAndTheGrantsOfItsName() {
        audit.applied(
                new Command.Envelope(7, "ops", new Command.Revoke("x")),
                new Reply.Ok(1),
                List.of(new Event.Lost("s1", "x", 4, Event.Reason.REVOKED), new Event.Granted("s2", 3, "x", 5)));

        assertThat(audit.entries())
                .containsExactly(new AuditLog.Entry(7, "ops", "revoke", "x", "ok", List.of(4L), List.of(5L)));
    }

    @Test
    void anOperatorsEndOfASessionRecordsTheSessionTheTokensTakenAndTheNewGrants() {
        audit.applied(
                new Command.Envelope(9, "ops", new Command.EndSession("session-a")),
                new Reply.Ok(2),
                List.of(
                        new Event.Lost("session-a", "x", 4, Event.Reason.SESSION_EXPIRED),
                        new Event.Lost("session-a", "y", 6, Event.Reason.SESSION_EXPIRED),
                        new Event.SessionExpired("session-a"),
                        new Event.Granted("session-b", 3, "y", 7)));
        audit.applied(
                new Command.Envelope(10, "bob", new Command.EndSession("session-a")),
                Reply.Failed.of(ErrorCode.PERMISSION_DENIED, "identity bob may not end session session-a"),
                List.of());

        assertThat(audit.entries())
                .containsExactly(
                        new AuditLog.Entry(9, "ops", "end-session", "session-a", "ok", List.of(4L, 6L), List.of(7L)),
                        new AuditLog.Entry(
                                10,
                                "bob",
                                "end-session",
                                "session-a",
                                "PERMISSION_DENIED: identity bob may not end session session-a",
                                List.of(),
                                List.of()));
    }

    @Test
    void rulesChangesAreRecordedAndEverydayAndMemberCommandsAreNot() {
        audit.applied(new Command.Envelope(1, "ops", new Command.SetAccessRules(null)), Reply.Ok.INSTANCE, List.of());
        audit.applied(
                new Command.Envelope(
                        2, "ann", new Command.Acquire(INV, "x", io.holdfast.LockMode.EXCLUSIVE, 1, 1, 0, 0, 0)),
                new Reply.Granted(1),
                List.of());
        audit.applied(
                Command.Envelope.of(3, new Command.ExpireSession("session-0123456789")),
                new Reply.Ok(1),
                List.of(new Event.SessionExpired("session-0123456789")));
        audit.applied(Command.Envelope.of(4, new Command.Tick()), Reply.Ok.INSTANCE, List.of());

        assertThat(audit.entries())
                .containsExactly(new AuditLog.Entry(1, "ops", "set-access-rules", null, "ok", List.of(), List.of()));
    }
}
