package io.holdfast.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.Keys;
import io.holdfast.LockClient;
import io.holdfast.PutOptions;
import io.holdfast.Txn;
import io.holdfast.TxnResult;
import io.holdfast.internal.Base64Text;
import io.holdfast.server.http.JsonViews;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code holdfast kv txn [FILE|-]}: one transaction ({@link Txn}) written in the HTTP protocol's JSON
 * (docs/protocol.md#keys: {@code compares}, {@code then}, {@code otherwise}), with {@code "text"}
 * accepted beside base64 {@code "value"} for readable files. Prints which branch ran and each op's
 * result (a counter as its number, with {@code --json} too); exit 0 when the compares held, 1 when
 * {@code otherwise} ran, 75 when an op of the branch met another version than it expected (nothing
 * changed), 64 for a document it cannot read (naming the field) or an op the service refused as
 * invalid, such as an {@code add} to a key that holds no counter (nothing changed).
 *
 * <p>A put with {@code "attach": true} attaches its key to this command's session, which ends as the
 * command exits: the key is deleted then, and a warning on stderr says so ({@code kv put --attach}
 * holds a key). A put without {@code "attach"}, {@code "detach"} or {@code "ttlMillis"} keeps its
 * key's lifetime; {@code "detach": true} makes it live until deleted.
 */
@Command(
        name = "txn",
        mixinStandardHelpOptions = true,
        description = {
            "Run one transaction from FILE ('-' or nothing: standard input), in the JSON of docs/protocol.md#keys"
                    + " ({\"compares\":[…],\"then\":[…],\"otherwise\":[…]}; \"text\" may stand for base64 \"value\").",
            "A put with \"attach\": true is deleted as this command exits (its session ends): hold one with kv put"
                    + " --attach. A put without \"attach\", \"detach\" or \"ttlMillis\" keeps its key's lifetime.",
            "Exit code: 0 the compares held; 1 they did not (otherwise ran); 75 an op met another version than it"
                    + " expected (nothing changed); 64 a document it cannot read, or an op refused as invalid, e.g. add"
                    + " to a key that holds no counter (nothing changed)."
        })
final class KvTxnCommand extends KvCommand.KvBase {
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "The transaction ('-': stdin).")
    String file = "-";

    @Override
    int run(LockClient client, Keys keys, PrintWriter out) {
        Txn txn = parse(read());
        TxnResult result = keys.commit(txn);
        List<Txn.Op> ops = result.succeeded() ? txn.then() : txn.otherwise();
        if (json) {
            ObjectNode o = JsonViews.JSON.createObjectNode().put("succeeded", result.succeeded());
            ArrayNode results = o.putArray("results");
            for (int i = 0; i < ops.size() && i < result.results().size(); i++) {
                results.add(json(ops.get(i), result.results().get(i)));
            }
            out.println(o);
        } else {
            out.println(result.succeeded() ? "SUCCEEDED (then ran)" : "FAILED (otherwise ran)");
            for (int i = 0; i < ops.size() && i < result.results().size(); i++) {
                out.println(line(ops.get(i), result.results().get(i)));
            }
        }
        out.flush();
        warnOfAttachedKeys(ops);
        return result.succeeded() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }

    /** One line on stderr when the branch that ran attached keys: they go with this command's session, as it exits. */
    private void warnOfAttachedKeys(List<Txn.Op> ran) {
        List<String> attached = new ArrayList<>();
        for (Txn.Op op : ran) {
            if (op instanceof Txn.Op.Put put && put.options().attached()) {
                attached.add(put.key());
            }
        }
        if (!attached.isEmpty()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(spec.qualifiedName() + ": warning: " + String.join(", ", attached)
                    + (attached.size() == 1 ? " is" : " are")
                    + " attached to this command's session, which ends as it exits: deleted now (to hold a key,"
                    + " holdfast kv put KEY VALUE --attach)");
            err.flush();
        }
    }

    /** An op's result as JSON: its type and key, version, a get's value (base64) and a counter as its number. */
    private static ObjectNode json(Txn.Op op, TxnResult.OpResult r) {
        ObjectNode each = JsonViews.JSON
                .createObjectNode()
                .put("type", kind(op))
                .put("key", op.key())
                .put("version", r.version());
        if (r.value() != null) {
            each.put("value", Base64.getEncoder().encodeToString(r.value()));
        }
        Long counter = counter(op, r);
        if (counter != null) {
            each.put("counter", counter);
        }
        return each;
    }

    /** An add's new value, or a get's value when it is a counter; else null. */
    private static Long counter(Txn.Op op, TxnResult.OpResult r) {
        return op instanceof Txn.Op.Add ? Long.valueOf(r.counter()) : WatchLines.counter(r.value());
    }

    private static String kind(Txn.Op op) {
        return op.getClass().getSimpleName().toLowerCase(Locale.ROOT);
    }

    private static String line(Txn.Op op, TxnResult.OpResult r) {
        StringBuilder b = new StringBuilder(kind(op))
                .append(' ')
                .append(op.key())
                .append(" version=")
                .append(r.version());
        Long counter = counter(op, r);
        WatchLines.Value value = WatchLines.Value.of(r.value());
        if (counter != null) {
            b.append(" counter=").append(counter);
        } else if (value != null) {
            b.append(value.base64() ? " valueBase64=" : " value=").append(value.text());
        }
        return b.toString();
    }

    private JsonNode read() {
        String from = "-".equals(file) ? "standard input" : file;
        byte[] bytes;
        try {
            bytes = "-".equals(file) ? System.in.readNBytes(Keys.MAX_TXN_BYTES * 2) : Files.readAllBytes(Path.of(file));
        } catch (IOException e) {
            throw new CliFailure(
                    ExitCodes.USAGE, "cannot read the transaction from " + from + ": " + Main.reason(e), e);
        }
        try {
            return JsonViews.JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new CliFailure(
                    ExitCodes.USAGE, "the transaction from " + from + " is not valid JSON: " + jsonProblem(e), e);
        } catch (IOException e) {
            throw new CliFailure(
                    ExitCodes.USAGE, "cannot read the transaction from " + from + ": " + Main.reason(e), e);
        }
    }

    /**
     * What is wrong with a JSON text, from the parser's own words without its internals: the places it names as
     * {@code line L, column C}, never its {@code [Source: REDACTED (StreamReadFeature…)]}.
     */
    static String jsonProblem(JsonProcessingException e) {
        String what = e.getOriginalMessage() == null ? "unreadable" : e.getOriginalMessage();
        what = what.replaceAll("\\[Source: .*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
        JsonLocation at = e.getLocation();
        return Main.oneLine(what)
                + (at == null ? "" : " (at line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
    }

    /** The transaction of a protocol document; a usage error naming the field that is wrong. */
    static Txn parse(JsonNode doc) {
        if (doc == null || !doc.isObject()) {
            throw bad("the transaction must be a JSON object with compares, then and otherwise");
        }
        only(doc, "the transaction", "compares", "then", "otherwise");
        List<Txn.Compare> compares = new ArrayList<>();
        for (JsonNode c : array(doc, "compares")) {
            compares.add(compare(c));
        }
        return new Txn(compares, ops(doc, "then"), ops(doc, "otherwise"));
    }

    private static List<Txn.Op> ops(JsonNode doc, String field) {
        List<Txn.Op> ops = new ArrayList<>();
        int i = 0;
        for (JsonNode o : array(doc, field)) {
            i++;
            String where = field + " op " + i;
            String key = text(o, "key", where);
            String type = text(o, "type", where);
            switch (type) {
                case "put" ->
                    only(
                            o,
                            where,
                            "type",
                            "key",
                            "value",
                            "text",
                            "expectedVersion",
                            "attach",
                            "detach",
                            "ttlMillis",
                            "lease");
                case "delete" -> only(o, where, "type", "key", "expectedVersion");
                case "add" -> only(o, where, "type", "key", "delta");
                case "get" -> only(o, where, "type", "key");
                default -> {} // refused below, by its type
            }
            ops.add(
                    switch (type) {
                        case "put" -> {
                            PutOptions options = new PutOptions(
                                    o.path("expectedVersion").asLong(Keys.ANY_VERSION),
                                    o.path("attach").asBoolean(false),
                                    Duration.ofMillis(o.path("ttlMillis").asLong(0)));
                            if (o.path("detach").asBoolean(false)) {
                                if (options.attached()) {
                                    throw bad(where + ": attach and detach together");
                                }
                                options = options.detach();
                            }
                            if (o.hasNonNull("lease")) {
                                // The protocol's rule (HttpTxnBodies): a lease attaches, so not with these.
                                if (o.path("detach").asBoolean(false)
                                        || o.path("ttlMillis").asLong(0) != 0) {
                                    throw bad(where + ": lease cannot be given with detach or ttlMillis (a key on a"
                                            + " lease lives as long as the lease)");
                                }
                                String lease = text(o, "lease", where);
                                if (io.holdfast.model.SessionIds.problem(lease) != null) {
                                    throw bad(where + ": not a lease id: " + lease + " ("
                                            + LeaseCommand.notALeaseId(lease) + ")");
                                }
                                options = options.lease(lease);
                            }
                            yield Txn.put(key, value(o, where), options);
                        }
                        case "delete" ->
                            Txn.delete(key, o.path("expectedVersion").asLong(Keys.ANY_VERSION));
                        case "add" -> Txn.add(key, number(o, "delta", where));
                        case "get" -> Txn.get(key);
                        default -> throw bad(where + ": type must be put, delete, add or get, not " + o.get("type"));
                    });
        }
        return ops;
    }

    private static Txn.Compare compare(JsonNode c) {
        String type = text(c, "type", "a compare");
        String where = type + " compare";
        switch (type) {
            case "version" -> only(c, where, "type", "key", "order", "version");
            case "value" -> only(c, where, "type", "key", "value", "text");
            case "absent" -> only(c, where, "type", "key");
            case "fence" -> only(c, where, "type", "lock", "token");
            case "holder" -> only(c, where, "type", "lock", "sessionId");
            case "sessionAlive" -> only(c, where, "type", "sessionId");
            default -> {} // refused below, by its type
        }
        return switch (type) {
            case "version" ->
                Txn.version(text(c, "key", where), order(text(c, "order", where)), number(c, "version", where));
            case "value" -> Txn.value(text(c, "key", where), value(c, where));
            case "absent" -> Txn.absent(text(c, "key", where));
            case "fence" -> new Txn.Compare.Fence(text(c, "lock", where), number(c, "token", where));
            case "holder" -> Txn.holder(text(c, "lock", where), text(c, "sessionId", where));
            case "sessionAlive" -> Txn.sessionAlive(text(c, "sessionId", where));
            default ->
                throw bad("compare type must be version, value, absent, fence, holder or sessionAlive, not " + type);
        };
    }

    private static Txn.Order order(String order) {
        return switch (order) {
            case "equal" -> Txn.Order.EQUAL;
            case "notEqual" -> Txn.Order.NOT_EQUAL;
            case "less" -> Txn.Order.LESS;
            case "greater" -> Txn.Order.GREATER;
            default -> throw bad("order must be equal, notEqual, less or greater, not " + order);
        };
    }

    /**
     * Refuses a field {@code o} does not take: a misspelt {@code "compare"} or {@code
     * "expectedVerison"} would otherwise be ignored, and the transaction would run without the
     * condition its author wrote.
     */
    private static void only(JsonNode o, String where, String... fields) {
        List<String> allowed = List.of(fields);
        for (java.util.Iterator<String> names = o.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw bad(where + " has a field \"" + name + "\" it does not take (it takes "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    private static Iterable<JsonNode> array(JsonNode doc, String field) {
        JsonNode a = doc.get(field);
        if (a == null || a.isNull()) {
            return List.of();
        }
        if (!a.isArray()) {
            throw bad(field + " must be an array");
        }
        return a;
    }

    private static String text(JsonNode o, String field, String where) {
        JsonNode v = o.get(field);
        if (v == null || !v.isTextual()) {
            throw bad(where + ": " + field + " must be a string");
        }
        return v.asText();
    }

    private static long number(JsonNode o, String field, String where) {
        JsonNode v = o.get(field);
        if (v == null || !v.canConvertToLong()) {
            throw bad(where + ": " + field + " must be a whole number");
        }
        return v.asLong();
    }

    /** {@code "value"} (base64) or {@code "text"} (UTF-8). */
    private static byte[] value(JsonNode o, String where) {
        if (o.hasNonNull("text")) {
            return o.get("text").asText().getBytes(StandardCharsets.UTF_8);
        }
        String b64 = text(o, "value", where + " (or text)");
        return Base64Text.decode(b64)
                .orElseThrow(() ->
                        bad(where + ": value must be base64 (" + Base64Text.whyNot(b64) + "; give text as \"text\")"));
    }

    private static CliFailure bad(String message) {
        return new CliFailure(ExitCodes.USAGE, message);
    }
}
