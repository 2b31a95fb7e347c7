package io.holdfast.it.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One client's driver as the suite sees it ({@code clients/CONFORMANCE.md}): commands in, one
 * answer per command, and the lines the client writes when it reports a lost lease. A process for
 * the Python, Node and Go clients, an object in this JVM for the Java client.
 */
interface Driver extends AutoCloseable {
    ObjectMapper JSON = new ObjectMapper();

    /** A line the driver wrote on its own (a lost lease), with the moment it was read. */
    record Report(JsonNode line, long nanos) {}

    /** Which client this is: python, node, go or java. */
    String name();

    /** Sends a command (the driver's {@code id} is added); completes with its answer. */
    CompletableFuture<JsonNode> send(ObjectNode command);

    /** The lines the driver wrote on its own, in order. */
    BlockingQueue<Report> reports();

    /** A new command. */
    static ObjectNode op(String op) {
        return JSON.createObjectNode().put("op", op);
    }

    /** Sends a command and waits for its answer. */
    default JsonNode call(ObjectNode command, long seconds) throws Exception {
        return send(command).get(seconds, TimeUnit.SECONDS);
    }

    @Override
    void close();

    /** The queue a driver fills. */
    static BlockingQueue<Report> queue() {
        return new LinkedBlockingQueue<>();
    }
}
