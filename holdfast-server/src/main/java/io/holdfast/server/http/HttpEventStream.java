package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.obj;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.core.SessionState;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.Event;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.node.NodeParts;
import io.holdfast.server.node.RaftLockService;
import io.holdfast.server.node.SessionEvents;
import io.holdfast.server.node.SessionEvents.Item;
import io.holdfast.server.node.SessionEvents.Page;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A session's event stream over HTTP, as a long poll ({@code GET
 * /api/v1/sessions/{id}/events?after=POSITION&waitMillis=N}): grants, wait timeouts, losses and the
 * session's end, from {@link SessionEvents}, at any member.
 *
 * <p><b>Guarantees.</b> An answer holds the session's events after {@code after} in log order and
 * the position to ask from next, or, when this replica cannot prove it has all of them, {@code
 * "gap": true} with the session's state (what it holds and waits for) read after that position:
 * a client that compares that state with what it believes misses no loss. A poll holds no thread
 * while it waits.
 *
 * <p><b>Does not</b> answer for a session this member has not heard of unless it leads: a follower
 * that has not applied the session's opening yet says {@code NOT_LEADER}, so a client never takes
 * a lagging replica's ignorance for the session's end.
 */
final class HttpEventStream {
    private final RaftLockService service;
    /** The node's parts this replica answers from: its table, whether it leads. */
    private final NodeParts parts;

    private final SessionEvents events;
    private final ScheduledExecutorService timer;

    /** @param timer where a long poll's wait ends (shared with the other HTTP routes, which close it) */
    HttpEventStream(NodeParts parts, ScheduledExecutorService timer) {
        this.service = parts.service();
        this.parts = parts;
        this.events = parts.sessionEvents();
        this.timer = timer;
    }

    /** One long poll: answers at once if there is something to say, else at the first event or after the wait. */
    CompletableFuture<Answer> poll(String identity, String sessionId, Map<String, String> query) {
        if (!service.mayUseSession(identity, sessionId)) {
            throw new Refused(403, "PERMISSION_DENIED", "session " + sessionId + " belongs to another identity");
        }
        ChangePosition after = HttpMessages.after(query);
        long wait = HttpMessages.pollMillis(query);
        ChangePosition from = after;
        if (!parts.machine().read(t -> t.hasSession(sessionId))
                && events.read(sessionId, after).items().isEmpty()) {
            if (!parts.duties().isActive()) {
                throw parts.gateway()
                        .notLeader("this member does not know session " + sessionId + " (yet): ask the leader");
            }
            return CompletableFuture.completedFuture(answer(sessionId, from)); // gone: say so at once
        }
        CompletableFuture<Void> next = events.nextEvent(sessionId, from);
        if (!next.isDone()) {
            var timeout = timer.schedule(() -> next.complete(null), wait, TimeUnit.MILLISECONDS);
            next.whenComplete((v, e) -> {
                timeout.cancel(false);
                events.forgetPoll(sessionId, next);
            });
        }
        return next.thenApply(v -> answer(sessionId, from));
    }

    private Answer answer(String sessionId, ChangePosition after) {
        Page page = events.read(sessionId, after);
        ObjectNode json = obj().put("sessionId", sessionId);
        ArrayNode list = json.putArray("events");
        // Read after the page, so the state is at least as new as the page's end: at worst a client
        // is told again of an event whose effect the state already shows.
        Optional<SessionState> state = page.gap() || page.items().isEmpty()
                ? parts.machine().read(t -> t.sessionState(sessionId))
                : Optional.empty();
        if (!page.gap()
                && page.items().isEmpty()
                && state.isEmpty()
                && parts.duties().isActive()) {
            // Nothing to tell and the session is gone (its last events left the buffer): say so.
            return gap(json, sessionId, page.next(), state);
        }
        if (page.gap()) {
            return gap(json, sessionId, page.next(), state);
        }
        for (Item i : page.items()) {
            list.add(eventJson(i));
        }
        json.put("next", page.next().toString()).put("gap", false);
        return Answer.json(200, json);
    }

    private static Answer gap(ObjectNode json, String sessionId, ChangePosition next, Optional<SessionState> state) {
        json.put("next", next.toString()).put("gap", true);
        ObjectNode s = json.putObject("state").put("exists", state.isPresent());
        ArrayNode holds = s.putArray("holds");
        ArrayNode waits = s.putArray("waits");
        state.ifPresent(st -> {
            st.holds()
                    .forEach(h -> holds.addObject()
                            .put("name", h.name())
                            .put("token", h.token())
                            .put("mode", h.mode().name().toLowerCase(Locale.ROOT))
                            .put("permits", h.permits()));
            st.waits().forEach(w -> waits.addObject().put("name", w.name()).put("requestId", w.seq()));
        });
        return Answer.json(200, json);
    }

    /** One event as the protocol writes it. */
    static ObjectNode eventJson(Item i) {
        ObjectNode json = obj().put("position", i.next().toString());
        Event e = i.event();
        if (e == null) {
            return json.put("type", "sessionClosed");
        }
        return e.accept(new Event.Visitor<ObjectNode>() {
            @Override
            public ObjectNode granted(Event.Granted g) {
                return json.put("type", "granted")
                        .put("name", g.name())
                        .put("token", g.token())
                        .put("requestId", g.seq());
            }

            @Override
            public ObjectNode waitTimedOut(Event.WaitTimedOut t) {
                return json.put("type", "waitTimedOut").put("name", t.name()).put("requestId", t.seq());
            }

            @Override
            public ObjectNode lost(Event.Lost l) {
                return json.put("type", "lost")
                        .put("name", l.name())
                        .put("token", l.token())
                        .put("reason", reason(l.reason()));
            }

            @Override
            public ObjectNode sessionExpired(Event.SessionExpired x) {
                return json.put("type", "sessionExpired");
            }
        });
    }

    private static String reason(Event.Reason r) {
        return switch (r) {
            case REVOKED -> "revoked";
            case LEASE_TIMEOUT -> "leaseTimeout";
            case SESSION_EXPIRED -> "sessionExpired";
        };
    }
}
