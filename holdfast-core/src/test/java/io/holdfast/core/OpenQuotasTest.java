package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ErrorCode;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionIds;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The quotas while access control is off ({@link Command.SetQuotas}): replicated state that the
 * table applies, keeps in its snapshot, and gives way to the access rules' own quotas while rules
 * are on.
 */
class OpenQuotasTest {
    private final LockTable table = new LockTable();

    private Reply apply(Command command) {
        return table.apply(Command.Envelope.of(0, command), EventSink.NONE);
    }

    private Reply open() {
        return apply(new Command.OpenSession(SessionIds.newId(), "c", 10_000, 0));
    }

    @Test
    void theFourthUnauthenticatedSessionIsRefusedUnderAQuotaOfThree() {
        assertThat(apply(new Command.SetQuotas(Map.of("sessions-per-identity", 3L))))
                .isEqualTo(Reply.Ok.INSTANCE);
        for (int i = 0; i < 3; i++) {
            assertThat(open()).isEqualTo(Reply.Ok.INSTANCE);
        }
        assertThat(open())
                .isEqualTo(Reply.Failed.of(
                        ErrorCode.QUOTA_EXCEEDED,
                        "an unauthenticated client has 3 open sessions; the quota sessions-per-identity is 3"));
        assertThat(table.quotas().sessionsPerIdentity()).isEqualTo(3);
        assertThat(table.refusals()).containsEntry("sessions-per-identity", 1L);

        assertThat(apply(new Command.SetQuotas(Map.of()))).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(table.quotas()).isEqualTo(Quotas.DEFAULTS);
        assertThat(open()).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Test
    void aBadQuotaChangesNothingAndAnIdentityMayNotSetThem() {
        apply(new Command.SetQuotas(Map.of("waits-per-session", 5L)));
        assertThat(apply(new Command.SetQuotas(Map.of("sessions-per-idenity", 3L))))
                .isEqualTo(Reply.Failed.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "unknown quota sessions-per-idenity; known: sessions-per-identity, holds-per-session,"
                                + " waits-per-session, waiters-per-lock, state-entries, register-bytes"));
        assertThat(apply(new Command.SetQuotas(Map.of("holds-per-session", 0L))))
                .isEqualTo(Reply.Failed.of(
                        ErrorCode.INVALID_ARGUMENT,
                        "quota holds-per-session must be a number from 1 to 2147483647, not 0"));
        Reply signed = table.apply(
                new Command.Envelope(0, "mallory", new Command.SetQuotas(Map.of("waits-per-session", 1L))),
                EventSink.NONE);
        assertThat(signed)
                .isEqualTo(Reply.Failed.of(ErrorCode.PERMISSION_DENIED, "SetQuotas is proposed by the leader only"));
        assertThat(table.openQuotas().changed()).isEqualTo(Map.of("waits-per-session", 5L));
    }

    @Test
    void theAccessRulesQuotasHoldWhileRulesAreOnAndTheseComeBackWhenTheyAreOff() {
        apply(new Command.SetQuotas(Map.of("sessions-per-identity", 3L)));
        apply(new Command.SetAccessRules("user ops root\nrole root admin *\nlimit sessions-per-identity 7\n"));
        assertThat(table.quotas().sessionsPerIdentity()).isEqualTo(7);
        assertThat(table.openQuotas().sessionsPerIdentity()).isEqualTo(3);

        table.apply(new Command.Envelope(0, "ops", new Command.SetAccessRules(null)), EventSink.NONE);
        assertThat(table.accessRules()).isNull();
        assertThat(table.quotas().sessionsPerIdentity()).isEqualTo(3);
    }

    @Test
    void theSnapshotKeepsThemInFormatSevenAndOnlyThen() throws IOException {
        assertThat(formatOf(snapshot(table))).isEqualTo(SnapshotCodec.VERSION_WITHOUT_MULTI_LOCKS);
        apply(new Command.SetQuotas(Map.of("sessions-per-identity", 3L, "register-bytes", 1L << 30)));
        byte[] bytes = snapshot(table);
        assertThat(formatOf(bytes)).isEqualTo(7);

        LockTable back = LockTable.readSnapshot(new ByteArrayInputStream(bytes));
        assertThat(back.openQuotas()).isEqualTo(table.openQuotas());
        assertThat(back.quotas().registerBytes()).isEqualTo(1L << 30);
        assertThat(snapshot(back)).isEqualTo(bytes);
        assertThat(back.restored(0).openQuotas()).isEqualTo(table.openQuotas());

        apply(new Command.SetQuotas(Map.of()));
        assertThat(formatOf(snapshot(table))).isEqualTo(SnapshotCodec.VERSION_WITHOUT_MULTI_LOCKS);
    }

    static byte[] snapshot(LockTable t) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        t.writeSnapshot(out);
        return out.toByteArray();
    }

    static int formatOf(byte[] snapshot) {
        return java.nio.ByteBuffer.wrap(snapshot).getInt(4);
    }
}
