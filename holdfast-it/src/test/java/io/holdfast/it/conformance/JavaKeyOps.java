package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.KeyEntry;
import io.holdfast.KeyListing;
import io.holdfast.Keys;
import io.holdfast.Lease;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The key commands of the driver protocol ({@code keyGet}, {@code keyPut}, {@code keyDelete},
 * {@code keyAdd}, {@code keyList}, {@code keyDeletePrefix}, {@code txn}; clients/CONFORMANCE.md) done with the Java
 * client's {@link Keys}, for {@link JavaDriver}. Values travel as UTF-8 text.
 */
final class JavaKeyOps {
    private JavaKeyOps() {}

    static void run(Keys keys, JsonNode c, ObjectNode answer, Function<String, Lease> leases) {
        switch (c.get("op").asText()) {
            case "keyGet" -> {
                Optional<KeyEntry> e = keys.get(c.get("key").asText());
                if (e.isPresent()) {
                    line(e.get(), answer);
                } else {
                    answer.put("version", 0).putNull("value").putNull("owner");
                }
            }
            case "keyPut" ->
                answer.put(
                        "version",
                        keys.put(c.get("key").asText(), text(c.path("value")), putOptions(c))
                                .version());
            case "keyDelete" ->
                answer.put(
                        "version",
                        keys.delete(
                                c.get("key").asText(), c.path("expectedVersion").asLong(Keys.ANY_VERSION)));
            case "keyAdd" ->
                answer.put(
                        "value", keys.add(c.get("key").asText(), c.get("delta").asLong()));
            case "keyList" -> {
                KeyListing page = keys.list(
                        c.path("prefix").asText(""),
                        c.path("after").asText(""),
                        c.path("limit").asInt(Keys.MAX_PAGE));
                lines(page.entries(), answer.putArray("keys"));
                answer.put("more", page.more()).put("position", page.position());
            }
            case "keyDeletePrefix" ->
                answer.put("deleted", keys.deletePrefix(c.path("prefix").asText("")));
            case "txn" -> txn(keys, c, answer, leases);
            default -> throw new InvalidArgumentException("no such key op: " + c.get("op"));
        }
    }

    /** A key in the protocol's words, its value as text. */
    static ObjectNode line(KeyEntry e, ObjectNode into) {
        return into.put("key", e.key())
                .put("version", e.version())
                .put("value", e.text())
                .put("owner", e.owner());
    }

    static void lines(List<KeyEntry> entries, ArrayNode into) {
        entries.forEach(e -> line(e, into.addObject()));
    }

    static byte[] text(JsonNode value) {
        return value.asText("").getBytes(StandardCharsets.UTF_8);
    }

    private static PutOptions putOptions(JsonNode c) {
        long expected = c.path("expectedVersion").asLong(Keys.ANY_VERSION);
        PutOptions o = expected == Keys.ANY_VERSION ? PutOptions.any() : PutOptions.ifVersion(expected);
        if (c.path("attach").asBoolean(false)) {
            o = o.attach();
        }
        if (c.hasNonNull("lease")) {
            o = o.lease(c.get("lease").asText());
        }
        long ttl = c.path("ttlMillis").asLong(0);
        return ttl > 0 ? o.ttl(Duration.ofMillis(ttl)) : o;
    }

    private static void txn(Keys keys, JsonNode c, ObjectNode answer, Function<String, Lease> leases) {
        List<Txn.Compare> compares = new ArrayList<>();
        for (JsonNode x : c.path("compares")) {
            compares.add(
                    switch (x.get("type").asText()) {
                        case "version" ->
                            Txn.version(
                                    x.get("key").asText(),
                                    Txn.Order.valueOf(x.get("order")
                                            .asText()
                                            .replaceAll("([A-Z])", "_$1")
                                            .toUpperCase(Locale.ROOT)),
                                    x.get("version").asLong());
                        case "value" -> Txn.value(x.get("key").asText(), text(x.path("value")));
                        case "absent" -> Txn.absent(x.get("key").asText());
                        case "fence" -> Txn.fence(leases.apply(x.get("handle").asText()));
                        case "holder" ->
                            Txn.holder(
                                    x.get("lock").asText(), x.get("sessionId").asText());
                        case "sessionAlive" ->
                            Txn.sessionAlive(x.get("sessionId").asText());
                        default -> throw new InvalidArgumentException("no such compare: " + x.get("type"));
                    });
        }
        TxnResult r = keys.commit(new Txn(compares, ops(c.path("then")), ops(c.path("otherwise"))));
        answer.put("succeeded", r.succeeded());
        ArrayNode results = answer.putArray("results");
        for (TxnResult.OpResult x : r.results()) {
            results.addObject()
                    .put("version", x.version())
                    .put("value", x.value() == null ? null : new String(x.value(), StandardCharsets.UTF_8))
                    .put("counter", x.counter());
        }
    }

    private static List<Txn.Op> ops(JsonNode list) {
        List<Txn.Op> ops = new ArrayList<>();
        for (JsonNode x : list) {
            String key = x.get("key").asText();
            ops.add(
                    switch (x.get("type").asText()) {
                        case "put" -> Txn.put(key, text(x.path("value")), putOptions(x));
                        case "delete" ->
                            Txn.delete(key, x.path("expectedVersion").asLong(Keys.ANY_VERSION));
                        case "add" -> Txn.add(key, x.get("delta").asLong());
                        case "get" -> Txn.get(key);
                        default -> throw new InvalidArgumentException("no such op: " + x.get("type"));
                    });
        }
        return ops;
    }
}
