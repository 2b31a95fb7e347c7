package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.checkedName;
import static io.holdfast.server.http.HttpMessages.number;
import static io.holdfast.server.http.HttpMessages.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.DistributedSemaphore;
import io.holdfast.LockMode;
import io.holdfast.model.MembershipChange;
import io.holdfast.model.SessionIds;
import io.holdfast.model.Transaction;
import io.holdfast.server.http.HttpMessages.Refused;
import io.holdfast.server.http.HttpSessions.Caller;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The JSON bodies of the HTTP port's routes, one record each, read and checked from the request:
 * what {@code openapi.json} describes as each operation's {@code requestBody}. A record's
 * components are the body's fields by the same names; a body that carries the caller's numbering
 * ({@code session}, {@code requestId}, {@code ackedBelow}) has it as its {@link Caller}.
 *
 * <p><b>Guarantees.</b> Every field is checked in the order written here, before anything is sent:
 * the first one missing or mistyped is {@code 400} naming it.
 */
final class HttpRequests {
    private HttpRequests() {}

    /** {@code POST /api/v1/sessions}. */
    record OpenSession(String clientName, long ttlMillis, long lockDelayMillis, String sessionId) {
        static OpenSession from(JsonNode body) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/sessions", OPEN_FIELDS);
            String clientName = text(body, "clientName", false);
            long ttl = number(body, "ttlMillis", 10_000);
            long lockDelay = number(body, "lockDelayMillis", 0);
            String id = text(body, "sessionId", false);
            if (id != null && !SessionIds.isWellFormedChoice(id)) {
                throw new Refused(
                        400,
                        "INVALID_ARGUMENT",
                        "\"sessionId\" must be 22 to 128 characters of A-Za-z0-9_- not starting with '-' (and hold"
                                + " at least 128 random bits)");
            }
            return new OpenSession(clientName, ttl, lockDelay, id);
        }
    }

    /** {@code POST /api/v1/acquire}. */
    record Acquire(
            Caller caller,
            String name,
            LockMode mode,
            int permits,
            int maxPermits,
            long owner,
            long waitMillis,
            long leaseMillis) {
        static Acquire from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/acquire", ACQUIRE_FIELDS);
            Caller c = numbering(body, identity);
            String name = checkedName(text(body, "name", true));
            LockMode mode = lockMode(body, true);
            long permits = number(body, "permits", 1);
            long maxPermits = number(body, "maxPermits", 1);
            if (mode != LockMode.PERMITS && (permits != 1 || maxPermits != 1)) {
                throw new Refused(
                        400, "INVALID_ARGUMENT", "\"permits\" and \"maxPermits\" go with \"mode\": \"permits\"");
            }
            if (permits > DistributedSemaphore.MAX_PERMITS || maxPermits > DistributedSemaphore.MAX_PERMITS) {
                throw new Refused(
                        400,
                        "INVALID_ARGUMENT",
                        "\"permits\" and \"maxPermits\" are at most " + DistributedSemaphore.MAX_PERMITS);
            }
            long owner = number(body, "owner", 0);
            long wait = number(body, "waitMillis", 0);
            long lease = number(body, "leaseMillis", 0);
            return new Acquire(c, name, mode, (int) permits, (int) maxPermits, owner, wait, lease);
        }
    }

    /** {@code POST /api/v1/acquire-all}: {@code names} in name order, each once. */
    record AcquireAll(Caller caller, List<String> names, LockMode mode, long owner, long waitMillis, long leaseMillis) {
        static AcquireAll from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/acquire-all", ACQUIRE_ALL_FIELDS);
            Caller c = numbering(body, identity);
            JsonNode list = body.get("names");
            if (list == null || !list.isArray() || list.isEmpty()) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body needs \"names\": an array of lock names");
            }
            TreeSet<String> sorted = new TreeSet<>();
            for (JsonNode n : list) {
                if (!n.isTextual()) {
                    throw new Refused(400, "INVALID_ARGUMENT", "\"names\" must hold strings only");
                }
                if (!sorted.add(checkedName(n.asText()))) {
                    throw new Refused(400, "INVALID_ARGUMENT", "\"names\" names " + n.asText() + " twice");
                }
            }
            LockMode mode = lockMode(body, false);
            long owner = number(body, "owner", 0);
            long wait = number(body, "waitMillis", 0);
            long lease = number(body, "leaseMillis", 0);
            return new AcquireAll(c, List.copyOf(new ArrayList<>(sorted)), mode, owner, wait, lease);
        }
    }

    /** {@code POST /api/v1/release} and {@code /renew}: a grant named by session, name and token. */
    record Grant(Caller caller, String name, long token) {
        /** @param what the request, as its refusal names it: {@code POST /api/v1/release} */
        static Grant from(JsonNode body, String identity, String what) {
            HttpTxnBodies.onlyFields(body, "", what, GRANT_FIELDS);
            Caller c = numbering(body, identity);
            String name = checkedName(text(body, "name", true));
            return new Grant(c, name, number(body, "token", -1));
        }
    }

    /** {@code POST /api/v1/cancel}: the wait of the session's acquire {@code waitRequestId}. */
    record Cancel(Caller caller, String name, long waitRequestId) {
        static Cancel from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/cancel", CANCEL_FIELDS);
            Caller c = numbering(body, identity);
            String name = checkedName(text(body, "name", true));
            return new Cancel(c, name, number(body, "waitRequestId", -1));
        }
    }

    /** {@code POST /api/v1/registers/set}: {@code value} decoded from base64; a fence only with {@code fenceName}. */
    record SetRegister(
            Caller caller, String key, long expectedVersion, byte[] value, String fenceName, long fenceToken) {
        static SetRegister from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/registers/set", SET_REGISTER_FIELDS);
            Caller c = numbering(body, identity);
            String key = checkedName(text(body, "key", true));
            long expected = number(body, "expectedVersion", -1);
            byte[] value = HttpTxnBodies.bytes(body, "", "value");
            String fenceName = text(body, "fenceName", false);
            long fenceToken = 0;
            if (fenceName != null) {
                fenceName = checkedName(fenceName);
                fenceToken = number(body, "fenceToken", -1);
            }
            return new SetRegister(c, key, expected, value, fenceName, fenceToken);
        }
    }

    /** {@code POST /api/v1/keys/put}: {@code value} decoded from base64; any version, keeping the key's lifetime, by default. */
    record PutKey(
            Caller caller,
            String key,
            byte[] value,
            long expectedVersion,
            boolean attach,
            boolean detach,
            long ttlMillis,
            String lease) {
        static PutKey from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/keys/put", PUT_FIELDS);
            Caller c = numbering(body, identity);
            Transaction.Op.Put put = HttpTxnBodies.put(body, "");
            boolean detach = put.lifetime() == io.holdfast.PutOptions.Lifetime.DETACH;
            return new PutKey(
                    c,
                    put.key(),
                    put.value(),
                    put.expectedVersion(),
                    put.attach(),
                    detach,
                    put.ttlMillis(),
                    put.lease());
        }

        /** The op this body asks for: its lifetime as {@link HttpTxnBodies#put} read it. */
        Transaction.Op.Put op() {
            io.holdfast.PutOptions.Lifetime lifetime = attach
                    ? io.holdfast.PutOptions.Lifetime.ATTACH
                    : detach ? io.holdfast.PutOptions.Lifetime.DETACH : io.holdfast.PutOptions.Lifetime.KEEP;
            return new Transaction.Op.Put(key, expectedVersion, value, lifetime, ttlMillis, lease);
        }
    }

    /** {@code POST /api/v1/keys/delete}: any version by default. */
    record DeleteKey(Caller caller, String key, long expectedVersion) {
        static DeleteKey from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/keys/delete", DELETE_FIELDS);
            Caller c = numbering(body, identity);
            Transaction.Op.Delete delete = HttpTxnBodies.delete(body, "");
            return new DeleteKey(c, delete.key(), delete.expectedVersion());
        }
    }

    /**
     * {@code POST /api/v1/keys/delete-prefix}: one page of a prefix delete; {@code limit} 1 to
     * 1,000 (the default). An empty prefix is refused here, before anything is sent.
     */
    record DeleteKeyPrefix(Caller caller, String prefix, int limit) {
        static DeleteKeyPrefix from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/keys/delete-prefix", DELETE_PREFIX_FIELDS);
            Caller c = numbering(body, identity);
            String prefix = text(body, "prefix", true);
            if (prefix.isEmpty()) {
                throw new Refused(400, "INVALID_ARGUMENT", io.holdfast.Keys.EMPTY_PREFIX_DELETE);
            }
            checkedName(prefix);
            long limit = number(body, "limit", io.holdfast.Keys.MAX_PAGE);
            if (limit < 1 || limit > io.holdfast.Keys.MAX_PAGE) {
                throw new Refused(
                        400,
                        "INVALID_ARGUMENT",
                        "\"limit\" must be 1 to " + io.holdfast.Keys.MAX_PAGE + ", not " + limit);
            }
            return new DeleteKeyPrefix(c, prefix, (int) limit);
        }
    }

    /** {@code POST /api/v1/keys/add}: {@code delta} may be negative. */
    record AddCounter(Caller caller, String key, long delta) {
        static AddCounter from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/keys/add", ADD_FIELDS);
            Caller c = numbering(body, identity);
            Transaction.Op.Add add = HttpTxnBodies.add(body, "");
            return new AddCounter(c, add.key(), add.delta());
        }
    }

    /** {@code POST /api/v1/txn}: the compares and both branches, as {@link HttpTxnBodies} reads them. */
    record Txn(
            Caller caller,
            List<Transaction.Compare> compares,
            List<Transaction.Op> then,
            List<Transaction.Op> otherwise) {
        static Txn from(JsonNode body, String identity) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/txn", TXN_FIELDS);
            Caller c = numbering(body, identity);
            return new Txn(
                    c,
                    HttpTxnBodies.list(body, "compares", HttpTxnBodies::compare),
                    HttpTxnBodies.list(body, "then", HttpTxnBodies::op),
                    HttpTxnBodies.list(body, "otherwise", HttpTxnBodies::op));
        }
    }

    /** {@code POST /api/v1/revoke}. */
    record Revoke(String name) {
        static Revoke from(JsonNode body) {
            HttpTxnBodies.onlyFields(body, "", "POST /api/v1/revoke", REVOKE_FIELDS);
            return new Revoke(checkedName(text(body, "name", true)));
        }
    }

    /** {@code POST /api/v1/members/remove}, {@code /promote} and {@code /transfer-leader}: the member's {@code id}. */
    record Member(String id) {
        /** @param what the request, as its refusal names it: {@code POST /api/v1/members/remove} */
        static Member from(JsonNode body, boolean required, String what) {
            HttpTxnBodies.onlyFields(body, "", what, MEMBER_FIELDS);
            return new Member(text(body, "id", required));
        }
    }

    /** {@code POST /api/v1/members/add}: the model's change, whose components are the body's fields. */
    static MembershipChange.Add addMember(JsonNode body) {
        HttpTxnBodies.onlyFields(body, "", "POST /api/v1/members/add", ADD_MEMBER_FIELDS);
        JsonNode learner = body.get("learner");
        if (learner != null && !learner.isBoolean()) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"learner\" must be true or false");
        }
        return new MembershipChange.Add(
                text(body, "id", true),
                text(body, "raftAddress", true),
                text(body, "clientAddress", true),
                learner != null && learner.asBoolean());
    }

    /** {@code DELETE /api/v1/sessions/{id}}: numbered by the query's {@code requestId}, or by the body's. */
    static Caller closeSession(String identity, String sessionId, Map<String, String> query, JsonNode body) {
        if (body == null) {
            return numbering(
                    identity,
                    sessionId,
                    HttpMessages.longQuery(query, "requestId"),
                    HttpMessages.longQuery(query, "ackedBelow"));
        }
        return numbering(body, identity, sessionId);
    }

    /**
     * The fields of a numbered write's body: the numbering's ({@code session}, {@code requestId},
     * {@code ackedBelow}), then {@code fields}.
     */
    private static List<String> numbered(List<String> fields) {
        List<String> out = new ArrayList<>(List.of("session", "requestId", "ackedBelow"));
        out.addAll(fields);
        return List.copyOf(out);
    }

    private static final List<String> OPEN_FIELDS = List.of("clientName", "ttlMillis", "lockDelayMillis", "sessionId");
    private static final List<String> ACQUIRE_FIELDS =
            numbered(List.of("name", "mode", "permits", "maxPermits", "owner", "waitMillis", "leaseMillis"));
    private static final List<String> ACQUIRE_ALL_FIELDS =
            numbered(List.of("names", "mode", "owner", "waitMillis", "leaseMillis"));
    private static final List<String> REVOKE_FIELDS = List.of("name");
    private static final List<String> MEMBER_FIELDS = List.of("id");
    private static final List<String> ADD_MEMBER_FIELDS = List.of("id", "raftAddress", "clientAddress", "learner");
    private static final List<String> GRANT_FIELDS = numbered(List.of("name", "token"));
    private static final List<String> CANCEL_FIELDS = numbered(List.of("name", "waitRequestId"));
    private static final List<String> SET_REGISTER_FIELDS =
            numbered(List.of("key", "expectedVersion", "value", "fenceName", "fenceToken"));
    private static final List<String> PUT_FIELDS = numbered(HttpTxnBodies.PUT);
    private static final List<String> DELETE_FIELDS = numbered(HttpTxnBodies.DELETE);
    private static final List<String> DELETE_PREFIX_FIELDS = numbered(List.of("prefix", "limit"));
    private static final List<String> ADD_FIELDS = numbered(HttpTxnBodies.ADD);
    private static final List<String> TXN_FIELDS = numbered(List.of("compares", "then", "otherwise"));

    /** The caller's numbering of a request: {@code session}, {@code requestId}, {@code ackedBelow}. */
    private static Caller numbering(JsonNode body, String identity) {
        return numbering(body, identity, text(body, "session", true));
    }

    private static Caller numbering(JsonNode body, String identity, String session) {
        JsonNode id = body.get("requestId");
        Long requestId = null;
        if (id != null && !id.isNull()) {
            if (!id.isIntegralNumber() || !id.canConvertToLong() || id.asLong() < 1) {
                throw new Refused(400, "INVALID_ARGUMENT", "\"requestId\" must be a whole number, 1 or more");
            }
            requestId = id.asLong();
        }
        long ackedBelow = number(body, "ackedBelow", 0);
        return numbering(identity, session, requestId, ackedBelow);
    }

    private static Caller numbering(String identity, String session, Long requestId, Long ackedBelow) {
        if (requestId == null && ackedBelow != null && ackedBelow > 0) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"ackedBelow\" goes with \"requestId\"");
        }
        if (requestId != null && requestId < 1) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"requestId\" must be a whole number, 1 or more");
        }
        return new Caller(identity, session, requestId, ackedBelow == null ? 0 : ackedBelow);
    }

    private static LockMode lockMode(JsonNode body, boolean permitsAllowed) {
        String text = text(body, "mode", false);
        if (text == null || text.equals("exclusive")) {
            return LockMode.EXCLUSIVE;
        }
        if (text.equals("shared")) {
            return LockMode.SHARED;
        }
        if (text.equals("permits") && permitsAllowed) {
            return LockMode.PERMITS;
        }
        throw new Refused(
                400,
                "INVALID_ARGUMENT",
                "\"mode\" is exclusive or shared" + (permitsAllowed ? " or permits" : "") + ", not " + text);
    }
}
