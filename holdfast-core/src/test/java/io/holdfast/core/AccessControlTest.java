package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.core.AccessRules.Verb;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Event;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Access control and quotas inside the table: sessions belong to the identity that opened them,
 * access rules are checked at apply (so every replica agrees), and each quota refuses with {@link
 * ErrorCode#QUOTA_EXCEEDED} while other clients keep working.
 */
class AccessControlTest {
    static final String RULES = """
            # who
            user alice  writer
            user bob    reader
            user ops    root
            role writer acquire a/* read a/* revoke a/*
            role reader read *
            role root   admin *
            """;

    private final LockTable table = new LockTable();
    private final List<Event> events = new ArrayList<>();
    private long seq;

    private Reply as(String identity, Command c) {
        return table.apply(new Command.Envelope(1_000, identity, c), events::add);
    }

    private String open(String identity, String id) {
        Reply r = as(identity, new Command.OpenSession(id, "client-" + id, 10_000, 0));
        assertThat(r).as("open %s as %s", id, identity).isEqualTo(Reply.Ok.INSTANCE);
        return id;
    }

    private Acquire acquire(String session, String name, long waitMillis) {
        return new Acquire(new Invocation(session, ++seq, 0), name, LockMode.EXCLUSIVE, 1, 1, seq, waitMillis, 0);
    }

    private static Reply.Failed failed(Reply r, ErrorCode code) {
        assertThat(r).isInstanceOf(Reply.Failed.class);
        Reply.Failed f = (Reply.Failed) r;
        assertThat(f.code()).as(f.message()).isEqualTo(code);
        return f;
    }

    private void turnOn(String rules) {
        assertThat(as(null, new Command.SetAccessRules(rules))).isEqualTo(Reply.Ok.INSTANCE);
    }

    @Nested
    class Rules {
        private final AccessRules rules = AccessRules.parse(RULES);

        @Test
        void aPrefixPatternCoversOnlyNamesBelowIt() {
            assertThat(rules.allows("alice", Verb.ACQUIRE, "a/x")).isTrue();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "a/x/y")).isTrue();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "b/x")).isFalse();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "a"))
                    .as("the prefix itself")
                    .isFalse();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "a/")).isFalse();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "ab/x"))
                    .as("a longer first segment")
                    .isFalse();
            assertThat(rules.allows("alice", Verb.ACQUIRE, "A/x"))
                    .as("case matters")
                    .isFalse();
        }

        @Test
        void dotSegmentsCannotEscapeAPrefixBecauseNoNameHasThem() {
            assertThatThrownBy(() -> io.holdfast.Names.check("a/../b"))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("'..' segment");
            assertThatThrownBy(() -> io.holdfast.Names.check("a/./b")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> io.holdfast.Names.check("..")).isInstanceOf(InvalidArgumentException.class);
            assertThat(io.holdfast.Names.check("a/..b/c...")).isEqualTo("a/..b/c...");
        }

        @Test
        void denyByDefault() {
            assertThat(rules.allows("mallory", Verb.READ, "a/x"))
                    .as("unknown identity")
                    .isFalse();
            assertThat(rules.allows(null, Verb.READ, "a/x")).as("no identity").isFalse();
            assertThat(rules.allows("bob", Verb.ACQUIRE, "a/x"))
                    .as("a verb no role grants")
                    .isFalse();
            assertThat(rules.allows("bob", Verb.READ, "anything")).isTrue();
            assertThat(rules.allows("ops", Verb.REVOKE, "z"))
                    .as("admin allows every verb")
                    .isTrue();
        }

        @Test
        void theCanonicalTextParsesToEqualRules() {
            AccessRules again = AccessRules.parse(rules.text());
            assertThat(again).isEqualTo(rules);
            assertThat(again.text()).isEqualTo(rules.text());
            assertThat(AccessRules.parse(RULES + "limit waiters-per-lock 7\n")
                            .quotas()
                            .waitersPerLock())
                    .isEqualTo(7);
        }

        @Test
        void mistakesAreNamedWithTheirLine() {
            assertThatThrownBy(() -> AccessRules.parse("user a r\nrole r grab *"))
                    .hasMessageContaining("line 2")
                    .hasMessageContaining("unknown verb 'grab'");
            assertThatThrownBy(() -> AccessRules.parse("user a nobody")).hasMessageContaining("role nobody");
            assertThatThrownBy(() -> AccessRules.parse("role r admin a/*"))
                    .hasMessageContaining("admin is granted on *");
            assertThatThrownBy(() -> AccessRules.parse("role r read a*")).hasMessageContaining("'*' stands alone");
            assertThatThrownBy(() -> AccessRules.parse("role r read a/../*")).hasMessageContaining("'..' segment");
            assertThatThrownBy(() -> AccessRules.parse("limit sessions-per-identity 0"))
                    .hasMessageContaining("from 1");
            assertThatThrownBy(() -> AccessRules.parse("limit nothing 3")).hasMessageContaining("unknown quota");
            assertThatThrownBy(() -> AccessRules.parse("grant a b")).hasMessageContaining("unknown statement");
            assertThatThrownBy(() -> AccessRules.parse("user a\nuser a")).hasMessageContaining("given twice");
        }
    }

    @Nested
    class Sessions {
        @Test
        void aSessionBelongsToTheIdentityThatOpenedItEvenWithoutRules() {
            String s = open("alice", "alice-session-0001");
            long token = ((Reply.Granted) as("alice", acquire(s, "a/x", 0))).token();

            Reply.Failed stolen = failed(
                    as("mallory", new Command.Release(new Invocation(s, ++seq, 0), "a/x", token)),
                    ErrorCode.PERMISSION_DENIED);
            assertThat(stolen.message()).contains("belongs to another identity");
            failed(
                    as(null, new Command.Release(new Invocation(s, ++seq, 0), "a/x", token)),
                    ErrorCode.PERMISSION_DENIED);
            failed(as(null, new Command.CloseSession(new Invocation(s, ++seq, 0))), ErrorCode.PERMISSION_DENIED);
            assertThat(table.isCurrentHolder("a/x", token))
                    .as("the lock is still held")
                    .isTrue();

            assertThat(as("alice", new Command.Release(new Invocation(s, ++seq, 0), "a/x", token)))
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(table.ownsSession("alice", s)).isTrue();
            assertThat(table.ownsSession("mallory", s)).isFalse();
        }

        @Test
        void reopeningAnIdUnderAnotherIdentityIsRefused() {
            String s = open("alice", "alice-session-0002");
            failed(as("mallory", new Command.OpenSession(s, "client-" + s, 10_000, 0)), ErrorCode.INVALID_ARGUMENT);
        }

        @Test
        void theIdentitySurvivesASnapshot() throws Exception {
            String s = open("alice", "alice-session-0003");
            turnOn(RULES);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            table.writeSnapshot(out);
            LockTable copy = LockTable.readSnapshot(new ByteArrayInputStream(out.toByteArray()));
            assertThat(copy.ownsSession("alice", s)).isTrue();
            assertThat(copy.ownsSession(null, s)).isFalse();
            assertThat(copy.accessRules()).isEqualTo(AccessRules.parse(RULES));
            ByteArrayOutputStream again = new ByteArrayOutputStream();
            copy.writeSnapshot(again);
            assertThat(again.toByteArray()).as("canonical").isEqualTo(out.toByteArray());
        }
    }

    @Nested
    class RulesInForce {
        @Test
        void everyVerbIsCheckedAtApply() {
            turnOn(RULES);
            String a = open("alice", "alice-session-0010");
            String b = open("bob", "bob-session-00010");

            assertThat(as("alice", acquire(a, "a/x", 0))).isInstanceOf(Reply.Granted.class);
            failed(as("alice", acquire(a, "b/x", 0)), ErrorCode.PERMISSION_DENIED);
            failed(as("alice", acquire(a, "a", 0)), ErrorCode.PERMISSION_DENIED);
            failed(as("alice", acquire(a, "a/../b", 0)), ErrorCode.INVALID_ARGUMENT);
            failed(as("bob", acquire(b, "a/y", 0)), ErrorCode.PERMISSION_DENIED);
            failed(
                    as("alice", new RegisterSet(new Invocation(a, ++seq, 0), "b/k", 0, new byte[1], null, 0)),
                    ErrorCode.PERMISSION_DENIED);
            assertThat(as("alice", new RegisterSet(new Invocation(a, ++seq, 0), "a/k", 0, new byte[1], null, 0)))
                    .isInstanceOf(Reply.Written.class);

            failed(as("bob", new Command.Revoke("a/x")), ErrorCode.PERMISSION_DENIED);
            failed(as(null, new Command.Revoke("a/x")), ErrorCode.PERMISSION_DENIED);
            assertThat(as("alice", new Command.Revoke("a/x"))).isEqualTo(new Reply.Ok(1));

            assertThat(table.mayRead("bob", "a/x")).isTrue();
            assertThat(table.mayRead("alice", "b/x")).isFalse();
            assertThat(table.refusals().get("permission-denied")).isEqualTo(6);
        }

        @Test
        void anIdentityEndsItsOwnSessionsAndAnAdminEndsAny() {
            turnOn(RULES);
            String alice1 = open("alice", "alice-session-0011");
            String alice2 = open("alice", "alice-session-0012");
            String bob = open("bob", "bob-session-00011");
            long refusedBefore = table.refusals().get("permission-denied");

            failed(as("bob", new Command.EndSession(alice1)), ErrorCode.PERMISSION_DENIED);
            Reply probe = as("bob", new Command.EndSession("no-such-session-00"));
            failed(probe, ErrorCode.PERMISSION_DENIED);
            assertThat(((Reply.Failed) probe).message())
                    .as("an unknown id is refused as a foreign one: ids cannot be probed")
                    .isEqualTo("identity bob may not end session no-such-session-00");
            failed(as(null, new Command.EndSession(bob)), ErrorCode.PERMISSION_DENIED);
            assertThat(table.hasSession(alice1)).isTrue();
            assertThat(table.hasSession(bob)).isTrue();

            assertThat(as("alice", new Command.EndSession(alice1))).isEqualTo(new Reply.Ok(0));
            assertThat(as("ops", new Command.EndSession(alice2))).isEqualTo(new Reply.Ok(0));
            assertThat(as("ops", new Command.EndSession(bob))).isEqualTo(new Reply.Ok(0));
            assertThat(table.hasSession(alice1) || table.hasSession(alice2) || table.hasSession(bob))
                    .isFalse();
            failed(as("ops", new Command.EndSession(bob)), ErrorCode.SESSION_EXPIRED);
            assertThat(table.refusals().get("permission-denied")).isEqualTo(refusedBefore + 3);
        }

        @Test
        void onlyKnownIdentitiesOpenSessions() {
            turnOn(RULES);
            failed(
                    as("mallory", new Command.OpenSession("mallory-session-01", "m", 10_000, 0)),
                    ErrorCode.PERMISSION_DENIED);
            failed(
                    as(null, new Command.OpenSession("anonymous-session-1", "m", 10_000, 0)),
                    ErrorCode.PERMISSION_DENIED);
        }

        @Test
        void onlyAnAdminChangesTheRulesAndNobodyLocksAdminsOut() {
            turnOn(RULES);
            failed(
                    as("alice", new Command.SetAccessRules("user alice r\nrole r admin *")),
                    ErrorCode.PERMISSION_DENIED);
            failed(as(null, new Command.SetAccessRules(null)), ErrorCode.PERMISSION_DENIED);
            failed(as("ops", new Command.SetAccessRules("user alice r\nrole r read *")), ErrorCode.INVALID_ARGUMENT);
            failed(
                    as("ops", new Command.SetAccessRules("user alice r\nuser ops x\nrole r admin *\nrole x read *")),
                    ErrorCode.INVALID_ARGUMENT);
            failed(as("ops", new Command.SetAccessRules("user ops r\nrole r fly *")), ErrorCode.INVALID_ARGUMENT);
            assertThat(table.accessRules()).isEqualTo(AccessRules.parse(RULES));

            assertThat(as("ops", new Command.SetAccessRules(RULES.replace("revoke a/*", ""))))
                    .isEqualTo(Reply.Ok.INSTANCE);
            assertThat(table.accessRules().allows("alice", Verb.REVOKE, "a/x")).isFalse();
            assertThat(as("ops", new Command.SetAccessRules(null))).isEqualTo(Reply.Ok.INSTANCE);
            assertThat(table.accessRules()).isNull();
        }

        @Test
        void onlyTheLeaderProposesExpiriesAndTicks() {
            String s = open(null, "anonymous-session-2");
            failed(as("alice", new Command.ExpireSession(s)), ErrorCode.PERMISSION_DENIED);
            failed(as("alice", new Command.Tick()), ErrorCode.PERMISSION_DENIED);
            assertThat(table.hasSession(s)).isTrue();
        }
    }

    @Nested
    class Quotas {
        @Test
        void aWaiterFloodIsRefusedAndOthersKeepWorking() {
            turnOn(RULES + "limit waiters-per-lock 3\nlimit waits-per-session 2\n");
            String holder = open("alice", "alice-holder-00001");
            assertThat(as("alice", acquire(holder, "a/hot", 0))).isInstanceOf(Reply.Granted.class);
            List<String> flood = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                flood.add(open("alice", "alice-flood-0000" + i));
            }
            for (String s : flood) {
                assertThat(as("alice", acquire(s, "a/hot", 60_000))).isEqualTo(Reply.Queued.INSTANCE);
            }
            String late = open("alice", "alice-late-000001");
            Reply.Failed refused = failed(as("alice", acquire(late, "a/hot", 60_000)), ErrorCode.QUOTA_EXCEEDED);
            assertThat(refused.message()).contains("waiters-per-lock").contains("3");

            // The same session may wait elsewhere up to its own quota, and other locks are free.
            assertThat(as("alice", acquire(late, "a/other", 0))).isInstanceOf(Reply.Granted.class);
            String second = open("alice", "alice-second-00001");
            assertThat(as("alice", acquire(second, "a/w1", 0))).isInstanceOf(Reply.Granted.class);
            assertThat(as("alice", acquire(flood.get(0), "a/w1", 60_000)))
                    .as("flood[0] now waits for a second lock")
                    .isEqualTo(Reply.Queued.INSTANCE);
            assertThat(as("alice", acquire(second, "a/w2", 0))).isInstanceOf(Reply.Granted.class);
            failed(as("alice", acquire(flood.get(0), "a/w2", 60_000)), ErrorCode.QUOTA_EXCEEDED);
            assertThat(table.refusals()).containsEntry("waiters-per-lock", 1L).containsEntry("waits-per-session", 1L);
        }

        @Test
        void sessionsPerIdentityAreCountedPerIdentity() {
            turnOn(RULES + "limit sessions-per-identity 2\n");
            open("alice", "alice-session-0100");
            open("alice", "alice-session-0101");
            failed(
                    as("alice", new Command.OpenSession("alice-session-0102", "c", 10_000, 0)),
                    ErrorCode.QUOTA_EXCEEDED);
            open("bob", "bob-session-000100");
            assertThat(as("alice", new Command.CloseSession(new Invocation("alice-session-0100", ++seq, 0))))
                    .isEqualTo(Reply.Ok.INSTANCE);
            open("alice", "alice-session-0102");
        }

        @Test
        void holdsStateAndRegisterBytesHaveQuotas() {
            turnOn(RULES + "limit holds-per-session 2\nlimit register-bytes 10\n");
            String s = open("alice", "alice-session-0200");
            assertThat(as("alice", acquire(s, "a/1", 0))).isInstanceOf(Reply.Granted.class);
            assertThat(as("alice", acquire(s, "a/2", 0))).isInstanceOf(Reply.Granted.class);
            failed(as("alice", acquire(s, "a/3", 0)), ErrorCode.QUOTA_EXCEEDED);
            assertThat(table.describe("a/3", 1_000))
                    .as("the refused lock left nothing behind")
                    .isEmpty();

            assertThat(as("alice", new RegisterSet(new Invocation(s, ++seq, 0), "a/k", 0, new byte[8], null, 0)))
                    .isInstanceOf(Reply.Written.class);
            failed(
                    as("alice", new RegisterSet(new Invocation(s, ++seq, 0), "a/j", 0, new byte[3], null, 0)),
                    ErrorCode.QUOTA_EXCEEDED);
            assertThat(as("alice", new RegisterSet(new Invocation(s, ++seq, 0), "a/k", 1, new byte[10], null, 0)))
                    .as("replacing a value counts only the difference")
                    .isInstanceOf(Reply.Written.class);

            turnOn2("limit state-entries 4\n");
            // alice's session, a/1, a/2, a/k: four entries.
            failed(as("ops", new Command.OpenSession("ops-session-000001", "c", 10_000, 0)), ErrorCode.QUOTA_EXCEEDED);
        }

        private void turnOn2(String extra) {
            assertThat(as("ops", new Command.SetAccessRules(RULES + extra))).isEqualTo(Reply.Ok.INSTANCE);
        }

        @Test
        void defaultsHoldWithoutRules() {
            assertThat(table.accessRules()).isNull();
            int quota = io.holdfast.core.Quotas.DEFAULTS.sessionsPerIdentity();
            for (int i = 0; i < quota; i++) {
                as(null, new Command.OpenSession("anonymous-session-" + (100_000 + i), "c", 10_000, 0));
            }
            assertThat(table.sessionCount()).isEqualTo(quota);
            failed(as(null, new Command.OpenSession("anonymous-session-x", "c", 10_000, 0)), ErrorCode.QUOTA_EXCEEDED);
            open("alice", "alice-session-0300"); // another identity has its own count
        }
    }
}
