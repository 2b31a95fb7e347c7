package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Names;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.AcquireAll;
import io.holdfast.model.Command.ClientCommand;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Reply;
import io.holdfast.model.Reply.Failed;
import io.holdfast.model.Transaction;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who may do what in {@link LockTable}, and how much: the replicated access rules (null while
 * access control is off), the quotas they set, the replicated quotas in force while access control
 * is off ({@link Command.SetQuotas}; the defaults until one is applied), and this replica's count
 * of refusals by quota and by permission.
 *
 * <p>Guarantees: every refusal it hands out is counted exactly once, in the counter its reply
 * names; a refusal is a {@link Failed} reply, never an exception (only malformed input, such as a
 * bad name or rules text, throws {@link InvalidArgumentException}, before anything changes). The
 * rules can never be set to a text that leaves no admin, or that takes admin from the identity
 * setting them. It does not count what is used (the table and its parts pass the counts in), and
 * its refusal counters are not replicated: they start at 0 with every table.
 */
final class Admission {
    // Indexes of Quotas.NAMES.
    static final int SESSIONS_PER_IDENTITY = 0;
    static final int HOLDS_PER_SESSION = 1;
    static final int WAITS_PER_SESSION = 2;
    static final int WAITERS_PER_LOCK = 3;
    static final int STATE_ENTRIES = 4;
    static final int REGISTER_BYTES = 5;

    private static final String MUST_AUTHENTICATE =
            "access control is on: the client must authenticate (client certificate or token)";

    /** The access rules; null while access control is off. Replicated (in the snapshot). */
    private AccessRules rules;
    /** The quotas while access control is off. Replicated (in the snapshot from format 7). */
    private Quotas openQuotas = Quotas.DEFAULTS;

    /** Refusals per quota since this table was made; not replicated (a replica's own count). */
    private final long[] quotaRefusals = new long[Quotas.NAMES.size()];

    private long permissionRefusals;

    /** The access rules, or null while access control is off. */
    AccessRules rules() {
        return rules;
    }

    /** Sets the rules without any check: for a snapshot or a restored table. */
    void restoreRules(AccessRules rules) {
        this.rules = rules;
    }

    /** The quotas in force: the rules' while access control is on, else {@link #openQuotas()}. */
    Quotas quotas() {
        return rules == null ? openQuotas : rules.quotas();
    }

    /** The quotas in force while access control is off. */
    Quotas openQuotas() {
        return openQuotas;
    }

    /** Sets the quotas while access control is off without any check: for a snapshot. */
    void restoreOpenQuotas(Quotas quotas) {
        this.openQuotas = quotas;
    }

    /**
     * Applies {@link Command.SetQuotas} (a members' own command: the table refuses it with an
     * identity before it comes here); an unknown quota or a bad value changes nothing.
     */
    Reply setQuotas(Command.SetQuotas c) {
        openQuotas = Quotas.of(c.limits(), "");
        return Reply.Ok.INSTANCE;
    }

    /** Counts and returns a refusal by the quota of index {@code quota}. */
    Failed quotaExceeded(int quota, String detail) {
        quotaRefusals[quota]++;
        return Failed.of(
                ErrorCode.QUOTA_EXCEEDED,
                detail + "; the quota " + Quotas.NAMES.get(quota) + " is " + quotas().get(quota));
    }

    /** The refusal of one more entry when the table holds {@code entries} (the caller compared). */
    Failed stateEntriesExceeded(int entries) {
        return quotaExceeded(STATE_ENTRIES, "the table holds " + entries + " sessions, locks and registers");
    }

    /** Counts and returns a permission refusal with this message. */
    Failed refuse(String message) {
        permissionRefusals++;
        return Failed.of(ErrorCode.PERMISSION_DENIED, message);
    }

    Failed denied(String identity, String verb, String name) {
        return refuse(identity == null ? MUST_AUTHENTICATE : "identity " + identity + " may not " + verb + " " + name);
    }

    /** The refusal of a session for an identity the rules do not know, or null if it may open one. */
    Failed checkOpen(String identity) {
        if (rules == null || rules.knows(identity)) {
            return null;
        }
        return refuse(identity == null ? MUST_AUTHENTICATE : "identity " + identity + " is not in the access rules");
    }

    /** The refusal of a revoke of {@code name}, or null if the rules allow it (or are off). */
    Failed checkRevoke(String identity, String name) {
        return rules != null && !rules.allows(identity, AccessRules.Verb.REVOKE, name)
                ? denied(identity, "revoke", name)
                : null;
    }

    static String describe(String identity) {
        return identity == null ? "an unauthenticated client" : "identity " + identity;
    }

    /** The refusal of a client command by the access rules, or null if they allow it (or are off). */
    Reply checkPermission(ClientCommand command, String identity) {
        if (rules == null) {
            return null;
        }
        return command.accept(new Command.ClientVisitor<Reply>() {
            @Override
            public Reply acquire(Acquire c) {
                return allowed(identity, AccessRules.Verb.ACQUIRE, "acquire", c.name());
            }

            @Override
            public Reply acquireAll(AcquireAll c) {
                if (c.names() == null) {
                    return null; // refused by the table as malformed
                }
                for (String name : c.names()) {
                    Reply refused = allowed(identity, AccessRules.Verb.ACQUIRE, "acquire", name);
                    if (refused != null) {
                        return refused;
                    }
                }
                return null;
            }

            @Override
            public Reply renew(Renew c) {
                return allowed(identity, AccessRules.Verb.ACQUIRE, "renew", c.name());
            }

            @Override
            public Reply registerSet(RegisterSet c) {
                Reply refused = allowed(identity, AccessRules.Verb.ACQUIRE, "write", c.key());
                if (refused == null && c.fenceName() != null) {
                    refused = allowed(identity, AccessRules.Verb.READ, "read", c.fenceName());
                }
                return refused;
            }

            @Override
            public Reply keys(KeyCommand c) {
                return c.accept(new KeyAccess(identity));
            }

            // Release, CancelWait and CloseSession only give back what the session has.

            @Override
            public Reply release(Command.Release c) {
                return null;
            }

            @Override
            public Reply cancelWait(Command.CancelWait c) {
                return null;
            }

            @Override
            public Reply closeSession(Command.CloseSession c) {
                return null;
            }
        });
    }

    /**
     * The access each key command needs, as its single commands need it: a write ({@code acquire}
     * verb) on every key it puts, deletes or adds to, a read on every key it compares or gets and on
     * every lock whose holder or fence it compares. A session's liveness needs none: only a client
     * that knows the session's id can ask. Null lists are let through, for the table to refuse.
     */
    private final class KeyAccess implements KeyCommand.Visitor<Reply> {
        private final String identity;

        KeyAccess(String identity) {
            this.identity = identity;
        }

        @Override
        public Reply keyDelete(KeyDelete c) {
            return write(c.key());
        }

        @Override
        public Reply counterAdd(CounterAdd c) {
            return write(c.key());
        }

        /** Its keys are known only when it is applied: {@link Transactions} checks each with {@link #checkWrite}. */
        @Override
        public Reply keyDeletePrefix(KeyDeletePrefix c) {
            return null;
        }

        @Override
        public Reply transaction(Transaction t) {
            java.util.List<String> reads = new java.util.ArrayList<>();
            java.util.List<String> writes = new java.util.ArrayList<>();
            for (Transaction.Compare c :
                    t.compares() == null ? java.util.List.<Transaction.Compare>of() : t.compares()) {
                if (c instanceof Transaction.Compare.Version v) {
                    reads.add(v.key());
                } else if (c instanceof Transaction.Compare.Value v) {
                    reads.add(v.key());
                } else if (c instanceof Transaction.Compare.Absent a) {
                    reads.add(a.key());
                } else if (c instanceof Transaction.Compare.Fence f) {
                    reads.add(f.lock());
                } else if (c instanceof Transaction.Compare.Holder h) {
                    reads.add(h.lock());
                }
            }
            for (java.util.List<Transaction.Op> branch : java.util.Arrays.asList(t.then(), t.otherwise())) {
                for (Transaction.Op op : branch == null ? java.util.List.<Transaction.Op>of() : branch) {
                    (op instanceof Transaction.Op.Get ? reads : writes).add(op == null ? null : op.key());
                }
            }
            for (String name : reads) {
                Reply refused = name == null ? null : allowed(identity, AccessRules.Verb.READ, "read", name);
                if (refused != null) {
                    return refused;
                }
            }
            for (String name : writes) {
                Reply refused = name == null ? null : write(name);
                if (refused != null) {
                    return refused;
                }
            }
            return null;
        }

        private Reply write(String key) {
            return allowed(identity, AccessRules.Verb.ACQUIRE, "write", key);
        }
    }

    /** The refusal of a write of {@code key} by {@code identity}, or null if the rules allow it (or are off). */
    Reply checkWrite(String identity, String key) {
        return rules == null ? null : allowed(identity, AccessRules.Verb.ACQUIRE, "write", key);
    }

    /** Null if the rules let {@code identity} do {@code verb} on {@code name}, else the refusal. */
    private Reply allowed(String identity, AccessRules.Verb verb, String action, String name) {
        return rules.allows(identity, verb, Names.check(name)) ? null : denied(identity, action, name);
    }

    /** Applies {@link Command.SetAccessRules} sent by {@code identity}. */
    Reply setAccessRules(Command.SetAccessRules c, String identity) {
        if (rules != null && !rules.allows(identity, AccessRules.Verb.ADMIN, "*")) {
            return denied(identity, "change the access rules of", "this cluster");
        }
        if (c.text() == null) {
            rules = null;
            return Reply.Ok.INSTANCE;
        }
        AccessRules next = AccessRules.parse(c.text());
        boolean anyAdmin = next.identities().stream().anyMatch(u -> next.allows(u, AccessRules.Verb.ADMIN, "*"));
        if (!anyAdmin) {
            throw new InvalidArgumentException(
                    "the access rules must give some identity admin, or nobody could change them again");
        }
        if (identity != null && !next.allows(identity, AccessRules.Verb.ADMIN, "*")) {
            throw new InvalidArgumentException(
                    "the new access rules would take admin from " + identity + ", who is changing them");
        }
        rules = next;
        return Reply.Ok.INSTANCE;
    }

    /** Whether {@code identity} may read {@code name}: always while access rules are off. */
    boolean mayRead(String identity, String name) {
        return rules == null || rules.allows(identity, AccessRules.Verb.READ, name);
    }

    /** Whether {@code identity} may see every session and revoke anything: always while rules are off. */
    boolean isAdmin(String identity) {
        return rules == null || rules.allows(identity, AccessRules.Verb.ADMIN, "");
    }

    /** Refusals by quota name, plus {@code permission-denied}. */
    Map<String, Long> refusals() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < quotaRefusals.length; i++) {
            out.put(Quotas.NAMES.get(i), quotaRefusals[i]);
        }
        out.put("permission-denied", permissionRefusals);
        return out;
    }
}
