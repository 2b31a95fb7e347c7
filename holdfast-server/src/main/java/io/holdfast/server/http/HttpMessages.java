package io.holdfast.server.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.holdfast.ErrorCode;
import io.holdfast.HoldfastException;
import io.holdfast.model.ChangePosition;
import io.holdfast.model.NotLeaderException;
import io.holdfast.protocol.GrpcErrors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The parts of the HTTP port's requests and answers that every route shares: reading a request
 * (method, JSON body, query, names, numbers), the answer and the refusal types, and how a failure
 * of the lock service becomes a status and an error body.
 *
 * <p><b>Guarantees.</b> Every malformed part of a request is refused with a {@link Refused}: a
 * status, an error code and a message naming the part ({@code 400}, {@code 405}, {@code 413},
 * {@code 414}, {@code 415}); a body is read up to {@value #MAX_BODY} bytes and no further. Every
 * answer carries headers that keep a browser from sniffing, framing or running foreign scripts.
 */
public final class HttpMessages {
    public static final ObjectMapper JSON = new ObjectMapper();
    /** The largest body: a transaction of 256 KiB of keys and values, in base64 and JSON. */
    public static final int MAX_BODY = 512 * 1024;

    /**
     * The longest page of the operators' listings (locks, elections, sessions), as docs/http-api.md
     * and openapi.json say: shorter than the service allows ({@link io.holdfast.Admin#MAX_LIMIT},
     * {@link io.holdfast.model.SessionPage#MAX_LIMIT}), since a page is one JSON answer of the
     * dashboard's.
     */
    static final int MAX_OPERATOR_PAGE = 1_000;
    /** The page of an operators' listing that sets no limit. */
    static final int DEFAULT_PAGE = 100;

    static final String API = "/api/v1/";

    private HttpMessages() {}

    /** An answer: status and JSON body (or raw bytes with a content type). */
    record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Answer json(int status, JsonNode body) {
            try {
                return new Answer(status, "application/json", JSON.writeValueAsBytes(body), Map.of());
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        static Answer text(int status, String contentType, String body) {
            return new Answer(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
        }
    }

    /** A request refused with an HTTP status and an error code. */
    static final class Refused extends RuntimeException {
        static final long serialVersionUID = 1L;
        final int status;
        final String code;
        final transient Map<String, Object> extra;

        Refused(int status, String code, String message) {
            this(status, code, message, Map.of());
        }

        Refused(int status, String code, String message, Map<String, Object> extra) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
            this.extra = extra;
        }
    }

    static String checkedName(String name) {
        try {
            return io.holdfast.Names.check(name);
        } catch (HoldfastException e) {
            throw new Refused(400, "INVALID_ARGUMENT", e.getMessage());
        }
    }

    static long number(JsonNode body, String field, long otherwise) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (otherwise < 0) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body needs \"" + field + "\"");
            }
            return otherwise;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"" + field + "\" must be a whole number, 0 or more");
        }
        return v.asLong();
    }

    static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    static Answer error(int status, String code, String message, Map<String, Object> extra) {
        ObjectNode err = obj().put("code", code).put("message", message);
        extra.forEach((k, v) -> err.set(k, JSON.valueToTree(v)));
        ObjectNode out = obj();
        out.set("error", err);
        Map<String, String> headers =
                status == 401 ? Map.of("WWW-Authenticate", "Bearer realm=\"holdfast\"") : Map.of();
        try {
            return new Answer(status, "application/json", JSON.writeValueAsBytes(out), headers);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void requireRead(String method) {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            throw new Refused(405, "METHOD_NOT_ALLOWED", "use GET here, not " + method);
        }
    }

    /**
     * Reads the request's whole body, on the port's thread and before any route looks at the
     * request, and puts it back as the exchange's body (so routes read it from memory). Every
     * request is read to its end, whether its route wants the body or not: the JDK's HTTPS server
     * left a keep-alive connection stalled when an answer went out with the request's body unread
     * (a {@code keepalive} POST with {@code {}}), until the client gave up on the next request.
     *
     * @throws Refused {@code 413} for a body over {@value #MAX_BODY} bytes (the rest stays unread and
     *     the connection is closed after the answer), {@code 400} if it cannot be read
     */
    static void readWholeBody(HttpExchange ex) {
        byte[] body;
        InputStream in = ex.getRequestBody();
        try {
            body = in.readNBytes(MAX_BODY + 1);
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body could not be read");
        }
        if (body.length > MAX_BODY) {
            ex.getResponseHeaders().set("Connection", "close");
            throw new Refused(413, "INVALID_ARGUMENT", "the body is larger than " + MAX_BODY + " bytes");
        }
        try {
            in.close(); // at its end already: nothing left for the server to drain
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body could not be read");
        }
        ex.setStreams(new ByteArrayInputStream(body), null);
    }

    /** The body as a JSON object; {@link #readWholeBody} has read it (so it is at most {@value #MAX_BODY} bytes). */
    static JsonNode jsonBody(HttpExchange ex) {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new Refused(415, "INVALID_ARGUMENT", "send the body as Content-Type: application/json");
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readAllBytes();
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body could not be read");
        }
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) {
                throw new Refused(400, "INVALID_ARGUMENT", "the body must be a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "the body is not valid JSON");
        }
    }

    static String text(JsonNode body, String field, boolean required) {
        return text(body, "", field, required);
    }

    /**
     * A string field of an object of the body.
     *
     * @param where the object's place in the body ({@code "then[2]"}), {@code ""} for the body itself
     */
    static String text(JsonNode node, String where, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw needs(where, field);
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"" + place(where, field) + "\" must be a string");
        }
        return v.asText();
    }

    /** A required field is missing from the body, or from its object at {@code where}. */
    static Refused needs(String where, String field) {
        return new Refused(
                400,
                "INVALID_ARGUMENT",
                (where.isEmpty() ? "the body" : "\"" + where + "\"") + " needs \"" + field + "\"");
    }

    /** How a refusal names a field: {@code key}, or {@code then[2].key} in an object at {@code where}. */
    static String place(String where, String field) {
        return where.isEmpty() ? field : where + "." + field;
    }

    static Map<String, String> query(HttpExchange ex) {
        String raw = ex.getRequestURI().getRawQuery();
        Map<String, String> out = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        if (raw.length() > 4096) {
            throw new Refused(414, "INVALID_ARGUMENT", "the query is longer than 4096 characters");
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            String key = decode(eq < 0 ? part : part.substring(0, eq));
            String value = eq < 0 ? "" : decode(part.substring(eq + 1));
            out.put(key, value);
        }
        return out;
    }

    static String required(Map<String, String> q, String key) {
        String v = q.get(key);
        if (v == null || v.isEmpty()) {
            throw new Refused(400, "INVALID_ARGUMENT", "the query needs \"" + key + "\"");
        }
        return v;
    }

    /** How long a long poll (the event stream, a watch) waits when its query does not say. */
    static final long DEFAULT_POLL_MILLIS = 20_000;
    /** The longest a long poll may wait: well within the HTTP timeouts clients and proxies use. */
    static final long MAX_POLL_MILLIS = 30_000;

    /** A long poll's position ({@code after}: an earlier answer's {@code next}); null without one. */
    static ChangePosition after(Map<String, String> q) {
        String text = q.getOrDefault("after", "");
        if (text.isEmpty()) {
            return null;
        }
        ChangePosition after = ChangePosition.parse(text);
        if (after == null) {
            throw new Refused(
                    400, "INVALID_ARGUMENT", "\"after\" is a position from an earlier answer's \"next\", not " + text);
        }
        return after;
    }

    /** A long poll's wait ({@code waitMillis}): 0 to {@value #MAX_POLL_MILLIS}, {@value #DEFAULT_POLL_MILLIS} if not given. */
    static long pollMillis(Map<String, String> q) {
        Long asked = longQuery(q, "waitMillis");
        long wait = asked == null ? DEFAULT_POLL_MILLIS : asked;
        if (wait > MAX_POLL_MILLIS) {
            throw new Refused(400, "INVALID_ARGUMENT", "\"waitMillis\" is 0 to " + MAX_POLL_MILLIS);
        }
        return wait;
    }

    /** A whole number, 0 or more, from the query; null if absent. */
    static Long longQuery(Map<String, String> q, String key) {
        String v = q.get(key);
        if (v == null) {
            return null;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new Refused(400, "INVALID_ARGUMENT", "\"" + key + "\" must be a whole number, 0 or more, not " + v);
    }

    static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "INVALID_ARGUMENT", "bad percent-encoding in " + s);
        }
    }

    /**
     * The query's {@code limit} of an operators' listing: 1 to {@value #MAX_OPERATOR_PAGE}, {@value
     * #DEFAULT_PAGE} when absent.
     */
    static int page(Map<String, String> query) {
        return page(query, DEFAULT_PAGE, MAX_OPERATOR_PAGE);
    }

    /**
     * The query's {@code limit}, 1 to {@code max}, the limit of what the route pages (the API's,
     * where a client meets it: {@link io.holdfast.Keys#MAX_PAGE} for keys); {@code otherwise} when
     * absent.
     */
    static int page(Map<String, String> query, int otherwise, int max) {
        String limit = query.get("limit");
        if (limit == null) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(limit);
            if (n >= 1 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new Refused(400, "INVALID_ARGUMENT", "limit must be 1 to " + max + ", not " + limit);
    }

    /**
     * The HTTP refusal for a failure of the lock service, or null for a fault of the node.
     *
     * @param leaderId the leader's member id, for a node that does not lead
     */
    static Refused refusal(Throwable cause, Supplier<String> leaderId) {
        return refusal(cause, leaderId, () -> null);
    }

    /**
     * As {@link #refusal(Throwable, Supplier)}; a "not the leader" also names the leader's HTTP
     * address ({@code leaderHttpAddress}, {@code host:port}) when {@code leaderHttp} knows it.
     */
    static Refused refusal(Throwable cause, Supplier<String> leaderId, Supplier<String> leaderHttp) {
        if (cause instanceof NotLeaderException nle) {
            Map<String, Object> extra = new HashMap<>();
            extra.put("leader", leaderId.get());
            extra.put("leaderClientAddress", nle.leaderAddress());
            extra.put("leaderHttpAddress", leaderHttp.get());
            return new Refused(503, "NOT_LEADER", nle.getMessage(), extra);
        }
        if (cause instanceof HoldfastException he) {
            return refused(he.code(), he.getMessage());
        }
        if (cause instanceof RejectedExecutionException) {
            return refused(ErrorCode.UNAVAILABLE, GrpcErrors.SHUTTING_DOWN); // the call did not run
        }
        return null;
    }

    static Refused refused(ErrorCode code, String message) {
        int status = switch (code) {
            case INVALID_ARGUMENT, UNSUPPORTED -> 400;
            case PERMISSION_DENIED -> 403;
            case QUOTA_EXCEEDED -> 429;
            case CONFLICT, NOT_OWNER, LOCK_LOST, DEADLOCK -> 409;
            case SESSION_EXPIRED -> 410;
            case TIMEOUT -> 504;
            case UNAVAILABLE -> 503;
        };
        return new Refused(status, code.name(), message);
    }

    static void send(HttpExchange ex, Answer a) throws IOException {
        var headers = ex.getResponseHeaders();
        headers.set("Content-Type", a.contentType());
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        headers.set(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        a.headers().forEach(headers::set);
        if ("HEAD".equals(ex.getRequestMethod())) {
            ex.sendResponseHeaders(a.status(), -1);
            return;
        }
        ex.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(a.body());
        }
    }
}
