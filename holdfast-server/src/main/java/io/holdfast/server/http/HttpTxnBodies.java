package io.holdfast.server.http;

import static io.holdfast.server.http.HttpMessages.needs;
import static io.holdfast.server.http.HttpMessages.place;
import static io.holdfast.server.http.HttpMessages.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.Keys;
import io.holdfast.PutOptions;
import io.holdfast.internal.Base64Text;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Compare;
import io.holdfast.model.Transaction.Op;
import io.holdfast.server.http.HttpMessages.Refused;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The compares and ops of {@code POST /api/v1/txn} ({@code docs/protocol.md}, "Keys"), read from
 * JSON into the model's {@link Compare} and {@link Op}; and the single-key writes, whose bodies
 * have the fields of the op of the same name ({@code keys/put}, {@code keys/delete}, {@code
 * keys/add}).
 *
 * <p><b>Guarantees.</b> Every field is checked before anything is sent: the first one missing,
 * mistyped, out of its range or unknown to its object (a misspelt {@code "expectedVersoin"} is not
 * skipped, which would write unconditionally) is {@code 400 INVALID_ARGUMENT} naming it with its
 * place in the body ({@code "then[1].expectedVersion"}); a list longer than {@link
 * Keys#MAX_TXN_OPS} is refused by name. <b>Does not</b> add up a transaction's bytes: the table
 * refuses one over {@link Keys#MAX_TXN_BYTES} ({@code txn-bytes}) before anything changes.
 */
final class HttpTxnBodies {
    /** The fields of a put, as an op (with {@code type}) and as the body of {@code keys/put}. */
    static final List<String> PUT =
            List.of("key", "value", "expectedVersion", "attach", "detach", "ttlMillis", "lease");

    /** The fields of a delete. */
    static final List<String> DELETE = List.of("key", "expectedVersion");

    /** The fields of a counter add. */
    static final List<String> ADD = List.of("key", "delta");

    private static final Map<String, List<String>> COMPARES = Map.of(
            "version", List.of("type", "key", "order", "version"),
            "value", List.of("type", "key", "value"),
            "absent", List.of("type", "key"),
            "fence", List.of("type", "lock", "token"),
            "holder", List.of("type", "lock", "sessionId"),
            "sessionAlive", List.of("type", "sessionId"));

    private static final Map<String, List<String>> OPS = Map.of(
            "put", typed(PUT),
            "delete", typed(DELETE),
            "add", typed(ADD),
            "get", List.of("type", "key"));

    /**
     * The fields of one kind of op that may come on another with the value that asks for nothing
     * (their defaults in {@code openapi.json}, whose {@code Op} is one schema for every kind).
     */
    private static final Map<String, Object> OP_UNASKED =
            Map.of("expectedVersion", Keys.ANY_VERSION, "attach", false, "detach", false, "ttlMillis", 0L);

    /** The same for compares: {@code order}, equal by default. */
    private static final Map<String, Object> COMPARE_UNASKED = Map.of("order", "equal");

    private HttpTxnBodies() {}

    /** "a put", "an add". */
    private static String article(String type) {
        return ("aeiou".indexOf(type.charAt(0)) >= 0 ? "an " : "a ") + type;
    }

    /** {@code type} and these fields. */
    private static List<String> typed(List<String> fields) {
        List<String> out = new ArrayList<>();
        out.add("type");
        out.addAll(fields);
        return List.copyOf(out);
    }

    /** The objects of the array {@code field} (absent: none), each read by {@code read} with its place. */
    static <T> List<T> list(JsonNode body, String field, BiFunction<JsonNode, String, T> read) {
        JsonNode array = body.get(field);
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw invalid(field, "must be an array of objects");
        }
        if (array.size() > Keys.MAX_TXN_OPS) {
            throw invalid(field, "has " + array.size() + " entries; the limit txn-ops is " + Keys.MAX_TXN_OPS);
        }
        List<T> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String where = field + "[" + i + "]";
            if (!array.get(i).isObject()) {
                throw invalid(where, "must be an object");
            }
            out.add(read.apply(array.get(i), where));
        }
        return out;
    }

    /** One compare: its {@code type} and that type's fields. */
    static Compare compare(JsonNode n, String where) {
        String type = text(n, where, "type", true);
        if (COMPARES.containsKey(type)) {
            onlyFields(n, where, article(type) + " compare", COMPARES.get(type), COMPARE_UNASKED);
        }
        return switch (type) {
            case "version" -> new Compare.Version(key(n, where, "key"), order(n, where), whole(n, where, "version", 0));
            case "value" -> new Compare.Value(key(n, where, "key"), bytes(n, where, "value"));
            case "absent" -> new Compare.Absent(key(n, where, "key"));
            case "fence" -> new Compare.Fence(key(n, where, "lock"), whole(n, where, "token", 0));
            case "holder" -> new Compare.Holder(key(n, where, "lock"), text(n, where, "sessionId", true));
            case "sessionAlive" -> new Compare.SessionAlive(text(n, where, "sessionId", true));
            default ->
                throw invalid(
                        place(where, "type"), "is version, value, absent, fence, holder or sessionAlive, not " + type);
        };
    }

    /** One op: its {@code type} and that type's fields. */
    static Op op(JsonNode n, String where) {
        String type = text(n, where, "type", true);
        if (OPS.containsKey(type)) {
            onlyFields(n, where, article(type) + " op", OPS.get(type), OP_UNASKED);
        }
        return switch (type) {
            case "put" -> put(n, where);
            case "delete" -> delete(n, where);
            case "add" -> add(n, where);
            case "get" -> new Op.Get(key(n, where, "key"));
            default -> throw invalid(place(where, "type"), "is put, delete, add or get, not " + type);
        };
    }

    /**
     * A put: {@code key}, {@code value} (base64), and {@code expectedVersion}, {@code attach}, {@code
     * detach}, {@code ttlMillis}, {@code lease}. Its lifetime: attached, detached ({@code detach}, or a
     * time to live without {@code attach}), else kept as the key has it (what a body without them
     * meant to detach before protocol version 8). {@code lease} (protocol version 10, ADR 0006): the
     * session the key is attached to instead of the writer's; it attaches, so with {@code detach} or
     * a time to live it is refused.
     */
    static Op.Put put(JsonNode n, String where) {
        String key = key(n, where, "key");
        byte[] value = bytes(n, where, "value");
        if (value.length > Keys.MAX_VALUE_BYTES) {
            throw invalid(place(where, "value"), "is " + value.length + " bytes; the limit is " + Keys.MAX_VALUE_BYTES);
        }
        long expected = expectedVersion(n, where);
        boolean attach = flag(n, where, "attach");
        boolean detach = flag(n, where, "detach");
        if (attach && detach) {
            throw invalid(place(where, "detach"), "cannot be true with attach: a key is attached or detached");
        }
        long ttl = whole(n, where, "ttlMillis", 0, 0);
        long least = Keys.MIN_TTL_SECONDS * 1000L;
        long most = Keys.MAX_TTL_DAYS * 24L * 3600 * 1000;
        if (ttl != 0 && (ttl < least || ttl > most)) {
            throw invalid(place(where, "ttlMillis"), "is 0 (none) or " + least + " to " + most + ", not " + ttl);
        }
        String lease = text(n, where, "lease", false);
        if (lease != null) {
            if (detach || ttl != 0) {
                throw invalid(
                        place(where, "lease"),
                        "cannot be given with detach or ttlMillis: a key on a lease lives as long as the lease");
            }
            String problem = io.holdfast.model.SessionIds.problem(lease);
            if (problem != null) {
                throw invalid(place(where, "lease"), "is not a session id: " + problem);
            }
            attach = true;
        }
        PutOptions.Lifetime lifetime = attach
                ? PutOptions.Lifetime.ATTACH
                : detach || ttl != 0 ? PutOptions.Lifetime.DETACH : PutOptions.Lifetime.KEEP;
        return new Op.Put(key, expected, value, lifetime, ttl, lease);
    }

    private static boolean flag(JsonNode n, String where, String field) {
        JsonNode f = n.get(field);
        if (f != null && !f.isNull() && !f.isBoolean()) {
            throw invalid(place(where, field), "must be true or false");
        }
        return f != null && f.asBoolean();
    }

    /** A delete: {@code key}, and {@code expectedVersion}. */
    static Op.Delete delete(JsonNode n, String where) {
        return new Op.Delete(key(n, where, "key"), expectedVersion(n, where));
    }

    /** A counter add: {@code key} and {@code delta}, which may be negative. */
    static Op.Add add(JsonNode n, String where) {
        return new Op.Add(key(n, where, "key"), whole(n, where, "delta", Long.MIN_VALUE));
    }

    /**
     * Refuses the first field of {@code node} that is not one of {@code known}, naming it with its
     * place and the fields {@code what} has: a misspelt field is an error, never ignored (a
     * transaction whose {@code "compare"} or a put whose {@code "expectedVersoin"} were skipped
     * would write unconditionally). A field sent as null is absent, as every reader takes it; so is
     * one of {@code unasked} holding the value there, which asks for nothing (an {@code
     * "expectedVersion": -1} on an add op, as a client generated from {@code openapi.json}, whose
     * ops share one schema, sends it).
     *
     * @param what what the object is, for the message ({@code "a put op"}, {@code "POST /api/v1/txn"})
     */
    static void onlyFields(JsonNode node, String where, String what, List<String> known, Map<String, Object> unasked) {
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            String name = f.getKey();
            if (known.contains(name) || f.getValue().isNull() || asksNothing(f.getValue(), unasked.get(name))) {
                continue;
            }
            throw new Refused(
                    400,
                    "INVALID_ARGUMENT",
                    "\"" + place(where, name) + "\" is not a field of " + what + "; its fields: "
                            + String.join(", ", known));
        }
    }

    /** The same, for an object with no field that may come unasked (a request's body). */
    static void onlyFields(JsonNode node, String where, String what, List<String> known) {
        onlyFields(node, where, what, known, Map.of());
    }

    private static boolean asksNothing(JsonNode v, Object unasked) {
        if (unasked instanceof Long l) {
            return v.isIntegralNumber() && v.canConvertToLong() && v.asLong() == l;
        }
        if (unasked instanceof Boolean b) {
            return v.isBoolean() && v.asBoolean() == b;
        }
        return unasked instanceof String t && v.isTextual() && v.asText().equals(t);
    }

    /** The bytes of a base64 field, required. */
    static byte[] bytes(JsonNode n, String where, String field) {
        String encoded = text(n, where, field, true);
        return Base64Text.decode(encoded)
                .orElseThrow(() -> invalid(place(where, field), "must be base64: " + Base64Text.whyNot(encoded)));
    }

    /** {@code expectedVersion}: 0 or more, or -1 for any (the default). */
    private static long expectedVersion(JsonNode n, String where) {
        return whole(n, where, "expectedVersion", Keys.ANY_VERSION, Keys.ANY_VERSION);
    }

    private static Transaction.Order order(JsonNode n, String where) {
        String order = text(n, where, "order", false);
        if (order == null || order.equals("equal")) {
            return Transaction.Order.EQUAL;
        }
        return switch (order) {
            case "notEqual" -> Transaction.Order.NOT_EQUAL;
            case "less" -> Transaction.Order.LESS;
            case "greater" -> Transaction.Order.GREATER;
            default -> throw invalid(place(where, "order"), "is equal, notEqual, less or greater, not " + order);
        };
    }

    /** A key or lock name, required and checked as a name. */
    private static String key(JsonNode n, String where, String field) {
        String name = text(n, where, field, true);
        try {
            return HttpMessages.checkedName(name);
        } catch (Refused r) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"" + place(where, field) + "\": " + r.getMessage());
        }
    }

    /** A required whole number, {@code min} or more. */
    private static long whole(JsonNode n, String where, String field, long min) {
        if (n.get(field) == null || n.get(field).isNull()) {
            throw needs(where, field);
        }
        return whole(n, where, field, 0, min);
    }

    /** A whole number, {@code min} or more; {@code otherwise} when absent. */
    private static long whole(JsonNode n, String where, String field, long otherwise, long min) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min) {
            throw invalid(
                    place(where, field),
                    "must be a whole number" + (min == Long.MIN_VALUE ? "" : ", " + min + " or more"));
        }
        return v.asLong();
    }

    private static Refused invalid(String field, String what) {
        return new Refused(400, "INVALID_ARGUMENT", "\"" + field + "\" " + what);
    }
}
