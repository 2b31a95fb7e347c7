package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.obj;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.Keys;
import io.holdfast.LockInfo;
import io.holdfast.WatchEvent;
import io.holdfast.WatchTarget;
import io.holdfast.core.ChangeLog;
import io.holdfast.model.ChangePage;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.KeyPage;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.node.RaftLockService;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Watches over HTTP, as a long poll ({@code GET
 * /api/v1/watch?lock=NAME|prefix=PREFIX|register=KEY|keys=PREFIX&after=POSITION&waitMillis=N}):
 * the changes of a lock, of the locks under a prefix, of a register, or of the keys under a
 * prefix, from {@link ChangeLog}, at any member.
 *
 * <p><b>Guarantees.</b> An answer holds the changes at or after {@code after} in log order (each
 * with the position right after it) and the position to ask from next; or, without {@code after}
 * or when this member does not have every change since it, {@code "gap": true} with the state
 * read after that position ({@code "locks"}, {@code "register"} or {@code "keys"}): a client that
 * replaces what it knew with that state and goes on from {@code next} misses nothing, though it
 * may be told again of a change the state already shows. Only names the caller may read are told.
 * The state of keys lists at most {@value #MAX_STATE_KEYS} keys (the API's limit of a watch's
 * state, {@link WatchTarget#MAX_PREFIX_LOCKS}, which the Java client keeps too), read a page at a
 * time (each page after {@code next}); {@code "more": true} says there are more, which the client
 * lists from the last one ({@code GET /api/v1/keys?after=}, a page at a time) before it applies
 * the events. A client that asks with {@code pages=true} (one that lists the rest) gets at most
 * {@link Keys#MAX_PAGE_BYTES} of keys and values in the state (at least one key), so that a state
 * of 1,000 keys of 64 KiB comes as answers that each fit a frame; without it, the state is whole up
 * to the count, as clients that ignore {@code "more"} expect.
 *
 * <p><b>Does not</b> hold a thread while it waits, nor keep anything for a watcher between polls.
 */
public final class HttpWatchRoute {
    /** The most keys the state of a watch of keys lists: the API's {@link WatchTarget#MAX_PREFIX_LOCKS}. */
    public static final int MAX_STATE_KEYS = WatchTarget.MAX_PREFIX_LOCKS;

    private final RaftLockService service;

    HttpWatchRoute(RaftLockService service) {
        this.service = service;
    }

    CompletableFuture<Answer> poll(String identity, Map<String, String> query) {
        WatchTarget target = target(query);
        if (target.kind() == WatchTarget.Kind.LOCK || target.kind() == WatchTarget.Kind.REGISTER) {
            HttpRegisterRoutes.requireRead(service, identity, target.name());
        }
        ChangePosition after = HttpMessages.after(query);
        long wait = HttpMessages.pollMillis(query);
        long stateBytes = "true".equals(query.get("pages")) ? Keys.MAX_PAGE_BYTES : Long.MAX_VALUE;
        return service.changes(identity, target, after, wait)
                .thenCompose(page -> answer(identity, target, page, stateBytes));
    }

    private static WatchTarget target(Map<String, String> query) {
        int given = (query.containsKey("lock") ? 1 : 0)
                + (query.containsKey("prefix") ? 1 : 0)
                + (query.containsKey("register") ? 1 : 0)
                + (query.containsKey("keys") ? 1 : 0);
        if (given != 1) {
            throw new Refused(
                    400,
                    "INVALID_ARGUMENT",
                    "the query needs exactly one of \"lock\", \"prefix\", \"register\", \"keys\"");
        }
        try {
            if (query.containsKey("lock")) {
                return WatchTarget.lock(query.get("lock"));
            }
            if (query.containsKey("prefix")) {
                return WatchTarget.prefix(query.get("prefix"));
            }
            if (query.containsKey("keys")) {
                return WatchTarget.keys(query.get("keys"));
            }
            return WatchTarget.register(query.get("register"));
        } catch (InvalidArgumentException e) {
            throw new Refused(400, "INVALID_ARGUMENT", e.getMessage());
        }
    }

    private CompletableFuture<Answer> answer(String identity, WatchTarget target, ChangePage page, long stateBytes) {
        ObjectNode json = obj().put("watch", target.kind().name().toLowerCase(Locale.ROOT))
                .put("name", target.name())
                .put("next", page.next().toString())
                .put("gap", page.gap());
        ArrayNode events = json.putArray("events");
        for (WatchEvent e : page.events()) {
            if (service.mayRead(identity, e.name())) {
                events.add(eventJson(e));
            }
        }
        if (!page.gap()) {
            return CompletableFuture.completedFuture(Answer.json(200, json));
        }
        // The state, read after the page: at least as new as its end.
        return switch (target.kind()) {
            case REGISTER ->
                service.readRegister(target.name()).thenApply(value -> {
                    ObjectNode r = json.putObject("register").put("key", target.name());
                    r.put("version", value.map(v -> v.version()).orElse(0L));
                    r.put(
                            "value",
                            value.map(v -> Base64.getEncoder().encodeToString(v.value()))
                                    .orElse(null));
                    return Answer.json(200, json);
                });
            case LOCK ->
                service.describe(target.name())
                        .thenApply(info -> locks(json, identity, info.stream().toList()));
            case PREFIX ->
                service.list(target.name(), WatchTarget.MAX_PREFIX_LOCKS)
                        .thenApply(all -> locks(
                                json,
                                identity,
                                all.stream()
                                        .filter(l -> target.coversLock(l.name()))
                                        .toList()));
            case KEYS ->
                keys(json.putArray("keys"), identity, target.name(), "", stateBytes, 0)
                        .thenApply(more -> Answer.json(200, json.put("more", more)));
        };
    }

    /**
     * Lists the keys under {@code prefix} after {@code after} into {@code into}, a page at a time,
     * up to {@value #MAX_STATE_KEYS} keys and {@code stateBytes} of keys and values (at least one
     * key; {@code bytes} of them listed already); completes with whether there are more.
     */
    private CompletableFuture<Boolean> keys(
            ArrayNode into, String identity, String prefix, String after, long stateBytes, long bytes) {
        int limit = Math.min(Keys.MAX_PAGE, MAX_STATE_KEYS - into.size());
        return service.keys(identity, prefix, after, limit).thenCompose(page -> {
            long sum = bytes;
            for (KeyPage.Entry k : page.keys()) {
                if (!into.isEmpty() && sum + k.size() > stateBytes) {
                    return CompletableFuture.completedFuture(true); // the rest: listed by the client
                }
                into.add(JsonViews.key(k));
                sum += k.size();
            }
            if (!page.more() || into.size() >= MAX_STATE_KEYS) {
                return CompletableFuture.completedFuture(page.more());
            }
            return keys(
                    into,
                    identity,
                    prefix,
                    page.keys().get(page.keys().size() - 1).key(),
                    stateBytes,
                    sum);
        });
    }

    private Answer locks(ObjectNode json, String identity, List<LockInfo> locks) {
        ArrayNode list = json.putArray("locks");
        locks.stream().filter(l -> service.mayRead(identity, l.name())).forEach(l -> list.add(JsonViews.lock(l)));
        return Answer.json(200, json);
    }

    /** One change as the protocol writes it (docs/protocol.md). */
    static ObjectNode eventJson(WatchEvent e) {
        ObjectNode json =
                obj().put("type", camel(e.type().name())).put("name", e.name()).put("position", e.position());
        if (e.sessionId() != null) {
            json.put("sessionId", e.sessionId());
        }
        if (e.fencingToken() != 0) {
            json.put("token", e.fencingToken());
        }
        if (e.mode() != null) {
            json.put("mode", e.mode().name().toLowerCase(Locale.ROOT));
        }
        if (e.cause() != null) {
            json.put("cause", camel(e.cause().name()));
        }
        if (e.type() == WatchEvent.Type.REGISTER_SET) {
            byte[] value = e.value();
            json.put("version", e.version())
                    .put("value", value == null ? null : Base64.getEncoder().encodeToString(value));
        } else if (e.type() == WatchEvent.Type.REGISTER_DELETED) {
            json.put("version", e.version()); // the version it had
        }
        return json;
    }

    /** {@code WAIT_ENDED} -> {@code waitEnded}. */
    static String camel(String constant) {
        StringBuilder b = new StringBuilder();
        boolean upper = false;
        for (char c : constant.toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == '_') {
                upper = true;
            } else {
                b.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return b.toString();
    }
}
