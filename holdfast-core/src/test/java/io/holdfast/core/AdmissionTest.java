package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.AcquireAll;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.SetAccessRules;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Admission} on its own: permission checks per command, the rules that protect the rules,
 * quota refusals and the counters every refusal lands in. The table's use of it (which command
 * asks which check, in which order) is {@link AccessControlTest}.
 */
class AdmissionTest {
    /** The rules of {@link AccessControlTest}, with a small quota. */
    static final String RULES = AccessControlTest.RULES + "limit holds-per-session 2\n";

    private static final Invocation INV = new Invocation("session-0000000000", 1, 0);

    private final Admission admission = new Admission();

    private void rulesOn() {
        assertThat(admission.setAccessRules(new SetAccessRules(RULES), null)).isEqualTo(Reply.Ok.INSTANCE);
    }

    private static Acquire acquire(String name) {
        return new Acquire(INV, name, LockMode.EXCLUSIVE, 1, 1, 1, 0, 0);
    }

    private static ErrorCode code(Reply r) {
        assertThat(r).isInstanceOf(Reply.Failed.class);
        return ((Reply.Failed) r).code();
    }

    @Test
    void everythingIsAllowedWhileRulesAreOff() {
        assertThat(admission.rules()).isNull();
        assertThat(admission.checkPermission(acquire("b/x"), null)).isNull();
        assertThat(admission.checkRevoke(null, "b/x")).isNull();
        assertThat(admission.checkOpen("nobody")).isNull();
        assertThat(admission.mayRead(null, "b/x")).isTrue();
        assertThat(admission.isAdmin(null)).isTrue();
        assertThat(admission.quotas()).isEqualTo(Quotas.DEFAULTS);
    }

    @Test
    void eachClientCommandNeedsItsVerbOnItsNames() {
        rulesOn();
        assertThat(admission.checkPermission(acquire("a/x"), "alice")).isNull();
        assertThat(((Reply.Failed) admission.checkPermission(acquire("b/x"), "alice")).message())
                .isEqualTo("identity alice may not acquire b/x");
        AcquireAll all = new AcquireAll(INV, List.of("a/x", "b/y"), LockMode.EXCLUSIVE, 1, 0, 0);
        assertThat(((Reply.Failed) admission.checkPermission(all, "alice")).message())
                .isEqualTo("identity alice may not acquire b/y");
        assertThat(((Reply.Failed) admission.checkPermission(new Renew(INV, "a/x", 1), "bob")).message())
                .isEqualTo("identity bob may not renew a/x");
        RegisterSet fenced = new RegisterSet(INV, "a/r", 0, new byte[1], "b/lock", 1);
        assertThat(((Reply.Failed) admission.checkPermission(fenced, "alice")).message())
                .isEqualTo("identity alice may not read b/lock");
        // Giving back needs no permission: it only returns what the session has.
        assertThat(admission.checkPermission(new Release(INV, "b/x", 1), "bob")).isNull();
        assertThat(code(admission.checkPermission(acquire("a/x"), null))).isEqualTo(ErrorCode.PERMISSION_DENIED);
        assertThat(admission.refusals()).containsEntry("permission-denied", 5L);
    }

    @Test
    void openRevokeReadAndAdminFollowTheRules() {
        rulesOn();
        assertThat(admission.checkOpen("alice")).isNull();
        assertThat(admission.checkOpen("mallory").message()).isEqualTo("identity mallory is not in the access rules");
        assertThat(admission.checkOpen(null).message())
                .startsWith("access control is on: the client must authenticate");
        assertThat(admission.checkRevoke("alice", "a/x")).isNull();
        assertThat(admission.checkRevoke("bob", "a/x").code()).isEqualTo(ErrorCode.PERMISSION_DENIED);
        assertThat(admission.mayRead("bob", "b/x")).isTrue();
        assertThat(admission.mayRead("alice", "b/x")).isFalse();
        assertThat(admission.isAdmin("ops")).isTrue();
        assertThat(admission.isAdmin("alice")).isFalse();
        assertThat(admission.refusals()).containsEntry("permission-denied", 3L);
    }

    @Test
    void rulesCannotLockOutEveryAdminNorTheOneChangingThem() {
        rulesOn();
        assertThatThrownBy(() -> admission.setAccessRules(new SetAccessRules("user a r\nrole r read *\n"), "ops"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("must give some identity admin");
        assertThatThrownBy(() ->
                        admission.setAccessRules(new SetAccessRules("user other root\nrole root admin *\n"), "ops"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("would take admin from ops");
        assertThat(code(admission.setAccessRules(new SetAccessRules(null), "alice")))
                .isEqualTo(ErrorCode.PERMISSION_DENIED);
        assertThat(admission.rules()).isNotNull();
        assertThat(admission.setAccessRules(new SetAccessRules(null), "ops")).isEqualTo(Reply.Ok.INSTANCE);
        assertThat(admission.rules()).isNull();
    }

    @Test
    void quotaRefusalsNameTheirQuotaAndAreCountedInIt() {
        rulesOn();
        assertThat(admission.quotas().holdsPerSession()).isEqualTo(2);
        Reply.Failed f = admission.quotaExceeded(Admission.HOLDS_PER_SESSION, "session s holds 2 grants");
        assertThat(f.code()).isEqualTo(ErrorCode.QUOTA_EXCEEDED);
        assertThat(f.message()).isEqualTo("session s holds 2 grants; the quota holds-per-session is 2");
        assertThat(admission.stateEntriesExceeded(7).message())
                .isEqualTo("the table holds 7 sessions, locks and registers; the quota state-entries is 1000000");
        assertThat(admission.refusals())
                .containsExactly(
                        java.util.Map.entry("sessions-per-identity", 0L),
                        java.util.Map.entry("holds-per-session", 1L),
                        java.util.Map.entry("waits-per-session", 0L),
                        java.util.Map.entry("waiters-per-lock", 0L),
                        java.util.Map.entry("state-entries", 1L),
                        java.util.Map.entry("register-bytes", 0L),
                        java.util.Map.entry("permission-denied", 0L));
    }

    @Test
    void restoredRulesAreTakenAsTheyAre() {
        AccessRules deny = AccessRules.DENY_ALL;
        admission.restoreRules(deny);
        assertThat(admission.rules()).isSameAs(deny);
        assertThat(admission.isAdmin("ops")).isFalse();
        assertThat(admission.refusals()).containsEntry("permission-denied", 0L);
    }
}
