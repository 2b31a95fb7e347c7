package io.holdfast.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.HolderInfo;
import io.holdfast.LockInfo;
import io.holdfast.WaiterInfo;
import io.holdfast.model.ClusterInfo;
import io.holdfast.model.KeyPage;
import io.holdfast.model.SessionPage;
import java.util.Base64;
import java.util.Locale;

/**
 * The JSON form of what operators look at: locks, sessions, keys, the cluster. One shape for the HTTP
 * API ({@code docs/http-api.md}) and the CLI's {@code --json}, so that scripts can use either.
 * Durations are whole milliseconds in fields ending {@code Millis}; unknown values are
 * {@code null}.
 */
public final class JsonViews {
    /** The mapper the views are made with. */
    public static final ObjectMapper JSON = new ObjectMapper();

    private JsonViews() {}

    /** A lock or semaphore, its holders, and its waiters in queue order. */
    public static ObjectNode lock(LockInfo l) {
        ObjectNode o = JSON.createObjectNode()
                .put("name", l.name())
                .put("semaphore", l.semaphore())
                .put("maxPermits", l.maxPermits());
        ArrayNode holders = o.putArray("holders");
        for (HolderInfo h : l.holders()) {
            holders.addObject()
                    .put("sessionId", h.sessionId())
                    .put("clientName", h.clientName())
                    .put("host", host(h.clientName()))
                    .put("mode", h.mode().name().toLowerCase(Locale.ROOT))
                    .put("permits", h.permits())
                    .put("token", h.fencingToken())
                    .put("holdCount", h.holdCount())
                    .put("heldForMillis", h.heldFor().toMillis())
                    .put(
                            "leaseLeftMillis",
                            h.leaseLeft() == null ? null : h.leaseLeft().toMillis());
        }
        ArrayNode waiters = o.putArray("waiters");
        for (WaiterInfo w : l.waiters()) {
            waiters.addObject()
                    .put("sessionId", w.sessionId())
                    .put("clientName", w.clientName())
                    .put("host", host(w.clientName()))
                    .put("mode", w.mode().name().toLowerCase(Locale.ROOT))
                    .put("permits", w.permits())
                    .put("waitingForMillis", w.waitingFor().toMillis())
                    .put("timeLeftMillis", w.timeLeft().toMillis());
        }
        return o;
    }

    /** A session. */
    public static ObjectNode session(SessionPage.Session s) {
        return JSON.createObjectNode()
                .put("id", s.id())
                .put("identity", s.identity())
                .put("clientName", s.clientName())
                .put("host", host(s.clientName()))
                .put("ttlMillis", s.ttlMillis())
                .put("lockDelayMillis", s.lockDelayMillis())
                .put("openForMillis", s.openForMillis())
                .put("holds", s.holds())
                .put("waits", s.waits())
                .put("ttlLeftMillis", s.ttlLeftMillis());
    }

    /** A key: its version, its value in base64, and the session it is attached to (null: none). */
    public static ObjectNode key(KeyPage.Entry k) {
        return JSON.createObjectNode()
                .put("key", k.key())
                .put("version", k.version())
                .put("value", Base64.getEncoder().encodeToString(k.value()))
                .put("owner", k.owner());
    }

    /** The answering node's Raft state and every member. */
    public static ObjectNode cluster(ClusterInfo c) {
        ObjectNode o = JSON.createObjectNode()
                .put("id", c.answeredBy())
                .put("role", c.role())
                .put("leader", c.leader())
                .put("term", c.term())
                .put("commitIndex", c.commitIndex())
                .put("appliedIndex", c.appliedIndex())
                .put("clusterVersion", c.clusterVersion())
                .put("lastToken", c.lastToken());
        ArrayNode members = o.putArray("members");
        for (ClusterInfo.Member m : c.members()) {
            members.addObject()
                    .put("id", m.id())
                    .put("raftAddress", m.raftAddress())
                    .put("clientAddress", m.clientAddress())
                    .put("role", m.role())
                    .put("self", m.id().equals(c.answeredBy()))
                    .put("lastContactMillis", m.lastContactMillis())
                    .put("version", m.version());
        }
        return o;
    }

    /** The host part of a client name of the default form {@code user@host:pid}, or null. */
    public static String host(String clientName) {
        int at = clientName == null ? -1 : clientName.lastIndexOf('@');
        if (at < 0 || at == clientName.length() - 1) {
            return null;
        }
        String host = clientName.substring(at + 1);
        int colon = host.lastIndexOf(':');
        if (colon > 0 && host.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            host = host.substring(0, colon);
        }
        return host;
    }
}
