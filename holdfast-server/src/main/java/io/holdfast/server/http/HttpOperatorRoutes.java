package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.obj;
import static io.holdfast.server.http.HttpMessages.page;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.LockInfo;
import io.holdfast.endpoint.Authenticator;
import io.holdfast.internal.Causes;
import io.holdfast.model.Command;
import io.holdfast.model.MembershipChange;
import io.holdfast.model.Reply;
import io.holdfast.model.SessionPage;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.http.HttpRequests.Member;
import io.holdfast.server.http.HttpRoutes.Request;
import io.holdfast.server.node.NodeParts;
import io.holdfast.server.node.RaftLockService;
import io.holdfast.server.node.Readiness;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The handlers of the routes of operators, the dashboard and the probes, each named after its
 * route in {@link HttpRoutes}: the open probes and metrics; under {@code /api/v1/}, who am I, the
 * node's and the members' status, locks, elections and sessions (what the identity may see),
 * revoke, and member changes.
 *
 * <p><b>Guarantees.</b> Reads say whether they are linearizable (the leader's, through its read
 * barrier) or a replica's own; a read gives up after {@value #READ_TIMEOUT_SECONDS} s with {@code
 * 504}, a member change after {@value #CHANGE_TIMEOUT_SECONDS} s. Revokes and member changes go
 * through the log like any client's, checked and audited at apply.
 */
final class HttpOperatorRoutes {
    static final long READ_TIMEOUT_SECONDS = 5;
    /** A change of the members waits for a new member to catch up (Ratis's staging timeout). */
    static final long CHANGE_TIMEOUT_SECONDS = 30;

    private final NodeParts node;
    private final Authenticator authenticator;

    HttpOperatorRoutes(NodeParts node, Authenticator authenticator) {
        this.node = node;
        this.authenticator = authenticator;
    }

    /** {@code GET /health}: the process serves. */
    Answer health() {
        return Answer.json(200, obj().put("status", "up"));
    }

    /** {@code GET /ready}: the node serves ({@link Readiness}); else 503 with the reason. */
    Answer ready() {
        String why;
        try {
            why = Readiness.whyNotReady(node.config().nodeId(), node.division());
        } catch (java.io.IOException e) {
            why = "this node's Raft division is not readable: " + Causes.rootMessage(e);
        }
        return why == null
                ? Answer.json(200, obj().put("ready", true))
                : Answer.json(503, obj().put("ready", false).put("reason", why));
    }

    /** {@code GET /status}: this node's Raft state, without the members. */
    Answer nodeStatus() {
        return Answer.json(200, status(false));
    }

    /** {@code GET /digest}: to compare replicas. */
    Answer digest() {
        return Answer.json(200, obj().put("digest", node.machine().digest()));
    }

    /** {@code GET /metrics}: Prometheus text. */
    Answer metrics() {
        return Answer.text(
                200, "text/plain; version=0.0.4; charset=utf-8", node.metrics().scrape());
    }

    /** {@code GET /api/v1/status}: this node's Raft state and every member. */
    Answer clusterStatus() {
        return Answer.json(200, status(true));
    }

    /**
     * This node's Raft state, whether access control is on, the quotas in force in its replica of
     * the table, and its lease check's refusals by what was refused; with {@code members}, every
     * member too.
     */
    private ObjectNode status(boolean members) {
        ObjectNode out = JsonViews.cluster(await(node.service().cluster()));
        if (!members) {
            out.remove("members");
        }
        out.put("accessControl", node.machine().read(io.holdfast.core.LockTable::accessRules) != null);
        ObjectNode quotas = out.putObject("quotas");
        node.machine().read(io.holdfast.core.LockTable::quotas).byName().forEach(quotas::put);
        ObjectNode refusals = out.putObject("leaseCheckRefusals");
        node.leaseRefusals().counts().forEach(refusals::put);
        return out;
    }

    /** {@code GET /api/v1/whoami}: who the caller is to this node. */
    Answer whoami(Request r) {
        ObjectNode out = obj().put("identity", r.identity()).put("authRequired", authenticator.required());
        out.put("admin", node.isAdmin(r.identity()));
        return Answer.json(200, out);
    }

    /** {@code GET /api/v1/locks}: a page of the locks the caller may read. */
    Answer listLocks(Request r) {
        String identity = r.identity();
        Map<String, String> query = r.query();
        String prefix = query.getOrDefault("prefix", "");
        String after = query.get("after");
        int limit = page(query);
        RaftLockService service = node.service();
        var read = await(node.inspector()
                .inspect((table, now) -> table.list(prefix, after, limit + 1, now, n -> service.mayRead(identity, n))));
        List<LockInfo> locks = read.value();
        boolean more = locks.size() > limit;
        if (more) {
            locks = locks.subList(0, limit);
        }
        ObjectNode out = servedBy(read.linearizable());
        ArrayNode items = out.putArray("locks");
        for (LockInfo l : locks) {
            items.add(JsonViews.lock(l));
        }
        out.put("next", more ? locks.get(locks.size() - 1).name() : null);
        return Answer.json(200, out);
    }

    /** {@code GET /api/v1/locks/{name}}: one lock, its holders and waiters. */
    Answer getLock(Request r) {
        String identity = r.identity();
        String name = r.param();
        if (!node.service().mayRead(identity, name)) {
            throw new Refused(403, "PERMISSION_DENIED", identity + " may not read " + name);
        }
        var read = await(node.inspector().inspect((table, now) -> table.describe(name, now)));
        Optional<LockInfo> lock = read.value();
        if (lock.isEmpty()) {
            throw new Refused(404, "NOT_FOUND", "no lock " + name + " is held or waited for");
        }
        ObjectNode out = servedBy(read.linearizable());
        out.set("lock", JsonViews.lock(lock.get()));
        return Answer.json(200, out);
    }

    /** {@code GET /api/v1/elections}: see {@link #elections}. */
    Answer listElections(Request r) {
        return elections(r.identity(), r.query());
    }

    /** {@code GET /api/v1/elections/{name}}: see {@link #election}. */
    Answer getElection(Request r) {
        return election(r.identity(), r.param());
    }

    /**
     * The elections among a page of locks ({@link io.holdfast.Election}): each held lock whose
     * register of the same name proclaims its holder's token as the epoch. {@code next} pages over
     * lock names, so a page may hold fewer elections than the limit.
     */
    private Answer elections(String identity, Map<String, String> query) {
        String prefix = query.getOrDefault("prefix", "");
        String after = query.get("after");
        int limit = page(query);
        RaftLockService service = node.service();
        var read = await(node.inspector().inspect((table, now) -> {
            List<LockInfo> locks = table.list(prefix, after, limit + 1, now, n -> service.mayRead(identity, n));
            List<ObjectNode> found = new java.util.ArrayList<>();
            for (LockInfo l : locks.subList(0, Math.min(limit, locks.size()))) {
                electionOf(table, l).ifPresent(found::add);
            }
            return Map.entry(found, locks.size() > limit ? locks.get(limit - 1).name() : "");
        }));
        ObjectNode out = servedBy(read.linearizable());
        ArrayNode items = out.putArray("elections");
        read.value().getKey().forEach(items::add);
        out.put("next", read.value().getValue().isEmpty() ? null : read.value().getValue());
        return Answer.json(200, out);
    }

    /**
     * One election: its leader now (epoch, value, holder), {@code value} null while the leader has
     * not proclaimed it; 404 when nobody leads it.
     */
    private Answer election(String identity, String name) {
        if (!node.service().mayRead(identity, name)) {
            throw new Refused(403, "PERMISSION_DENIED", identity + " may not read " + name);
        }
        var read = await(node.inspector()
                .inspect((table, now) -> table.describe(name, now).flatMap(l -> leaderOf(table, l))));
        if (read.value().isEmpty()) {
            throw new Refused(404, "NOT_FOUND", "nobody leads the election " + name + " now");
        }
        ObjectNode out = servedBy(read.linearizable());
        out.set("election", read.value().get());
        return Answer.json(200, out);
    }

    /** The election a lock stands for, if its register proclaims its holder's token. */
    private static Optional<ObjectNode> electionOf(io.holdfast.core.LockTable table, LockInfo lock) {
        return leaderOf(table, lock).filter(election -> !election.get("value").isNull());
    }

    /**
     * Who leads the election of a lock's name: its one holder, with the value its register
     * proclaims for the holder's token, or a null value while the leader has not written it (see
     * docs/protocol.md, the election record). Empty when the lock is a semaphore or not held by one.
     */
    private static Optional<ObjectNode> leaderOf(io.holdfast.core.LockTable table, LockInfo lock) {
        if (lock.semaphore() || lock.holders().size() != 1) {
            return Optional.empty();
        }
        io.holdfast.HolderInfo holder = lock.holders().get(0);
        String value = table.register(lock.name())
                .flatMap(r -> io.holdfast.Election.Leader.proclaimed(lock.name(), r.value()))
                .filter(leader -> leader.epoch() == holder.fencingToken())
                .map(io.holdfast.Election.Leader::value)
                .orElse(null);
        return Optional.of(obj().put("name", lock.name())
                .put("epoch", holder.fencingToken())
                .put("value", value)
                .put("sessionId", holder.sessionId())
                .put("clientName", holder.clientName())
                .put("host", JsonViews.host(holder.clientName()))
                .put("leadingForMillis", holder.heldFor().toMillis())
                .put("candidates", lock.waiters().size()));
    }

    /** {@code GET /api/v1/sessions}: a page of the caller's sessions (an admin's: all). */
    Answer listSessions(Request r) {
        Map<String, String> query = r.query();
        SessionPage page = await(node.inspector().sessions(r.identity(), query.get("after"), page(query)));
        ObjectNode out = servedBy(page.linearizable());
        ArrayNode items = out.putArray("sessions");
        for (SessionPage.Session s : page.sessions()) {
            items.add(JsonViews.session(s));
        }
        out.put("next", page.next());
        return Answer.json(200, out);
    }

    /**
     * {@code POST /api/v1/revoke}: through the log like any other client's revoke: the table
     * checks the {@code revoke} permission at apply on every replica, and audits the attempt
     * whether allowed or refused.
     */
    Answer revoke(Request r) {
        String name = HttpRequests.Revoke.from(r.body()).name();
        Command revoke = new Command.Revoke(name);
        HttpTracing.submitting(revoke);
        Reply reply = await(node.service().submit(revoke, r.identity()));
        long revoked = reply.accept(REVOKED);
        return Answer.json(200, obj().put("name", name).put("revoked", revoked));
    }

    /** How many holds a revoke took; its refusal if it failed. */
    private static final Reply.Visitor<Long> REVOKED = new HttpReplies.ReplyAnswer<>() {
        @Override
        public Long ok(Reply.Ok r) {
            return r.value();
        }
    };

    /** {@code POST /api/v1/members/add}: a voter, or with {@code learner} a member without a vote. */
    Answer addMember(Request r) {
        return changeMembers(r.identity(), HttpRequests.addMember(r.body()));
    }

    /** {@code POST /api/v1/members/remove}: a voter or a learner. */
    Answer removeMember(Request r) {
        return changeMembers(
                r.identity(),
                new MembershipChange.Remove(Member.from(r.body(), true, "POST /api/v1/members/remove")
                        .id()));
    }

    /** {@code POST /api/v1/members/promote}: gives a learner a vote. */
    Answer promoteMember(Request r) {
        return changeMembers(
                r.identity(),
                new MembershipChange.Promote(Member.from(r.body(), true, "POST /api/v1/members/promote")
                        .id()));
    }

    /** {@code POST /api/v1/members/transfer-leader}: to {@code id}, or without it to the most up-to-date voter. */
    Answer transferLeader(Request r) {
        return changeMembers(
                r.identity(),
                new MembershipChange.TransferLeader(Member.from(r.body(), false, "POST /api/v1/members/transfer-leader")
                        .id()));
    }

    /**
     * A change of the members through the leader (admin only with access control on), answered
     * with the members after it. A change waits for a new member to catch up, so it may take
     * longer than a read.
     */
    private Answer changeMembers(String identity, MembershipChange change) {
        return Answer.json(
                200, JsonViews.cluster(await(node.service().changeMembers(identity, change), CHANGE_TIMEOUT_SECONDS)));
    }

    private ObjectNode servedBy(boolean linearizable) {
        ObjectNode out = obj();
        out.put("node", node.config().nodeId()).put("linearizable", linearizable);
        return out;
    }

    private <T> T await(CompletableFuture<T> future) {
        return await(future, READ_TIMEOUT_SECONDS);
    }

    private <T> T await(CompletableFuture<T> future, long seconds) {
        try {
            return future.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            future.cancel(false);
            throw new Refused(504, "TIMEOUT", "the cluster did not answer within " + seconds + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refused(503, "UNAVAILABLE", "interrupted");
        } catch (ExecutionException e) {
            Refused r = HttpMessages.refusal(e.getCause(), node::leaderId, node::leaderHttpAddress);
            throw r != null ? r : new Refused(503, "UNAVAILABLE", String.valueOf(e.getCause()));
        }
    }
}
