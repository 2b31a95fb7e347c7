package io.holdfast.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.server.http.HttpRoutes.Audience;
import io.holdfast.server.http.HttpRoutes.Route;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The table of the HTTP port's routes ({@link HttpRoutes}) against its description, {@code
 * openapi.json}, both ways: what is served is documented and what is documented is served, with
 * the same operation, audience and (for the open routes) no security. {@code
 * HttpApiTest.everyRouteOfTheOpenApiDescriptionExists} asks a live node for every documented route.
 */
class HttpRouteTableTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyServedRouteIsDocumented() throws IOException {
        Set<String> missing = new TreeSet<>(served().keySet());
        missing.removeAll(documented().keySet());
        assertThat(missing).as("served, but not in openapi.json").isEmpty();
    }

    @Test
    void everyDocumentedRouteIsServed() throws IOException {
        Set<String> missing = new TreeSet<>(documented().keySet());
        missing.removeAll(served().keySet());
        assertThat(missing)
                .as("in openapi.json, but no row of HttpRoutes serves it")
                .isEmpty();
    }

    @Test
    void eachRouteIsDocumentedWithItsOperationAndAudience() throws IOException {
        Map<String, String> documented = documented();
        served().forEach((route, described) -> {
            if (documented.containsKey(route)) {
                assertThat(documented.get(route)).as(route).isEqualTo(described);
            }
        });
    }

    @Test
    void theOpenRoutesAreExactlyThoseOutsideTheApi() {
        for (Route r : HttpRoutes.TABLE) {
            assertThat(r.audience() == Audience.OPEN)
                    .as(r.method() + " " + r.path() + " is open exactly when it is outside " + HttpMessages.API)
                    .isEqualTo(!r.path().startsWith(HttpMessages.API));
        }
    }

    @Test
    void everyRowIsReachedByAPathItsPatternTakes() {
        Set<String> operations = new HashSet<>();
        for (Route r : HttpRoutes.TABLE) {
            assertThat(operations.add(r.operationId()))
                    .as("operationId " + r.operationId() + " once")
                    .isTrue();
            String path = r.path().replaceAll("\\{\\w+\\*}", "a%2Fb/c").replaceAll("\\{\\w+}", "s%201");
            var match = HttpRoutes.match(path);
            assertThat(match).as(path).isPresent();
            assertThat(match.get().forMethod(r.method()))
                    .as(r.method() + " " + path)
                    .contains(r);
            if (r.path().contains("*}")) {
                assertThat(match.get().param()).isEqualTo("a/b/c");
            } else if (r.path().contains("{")) {
                assertThat(match.get().param()).isEqualTo("s 1");
            }
        }
        assertThat(HttpRoutes.match("/api/v1/sessions/s1/keepalive/more")).isEmpty();
        assertThat(HttpRoutes.match("/api/v1/registers/set").get().forMethod("GET"))
                .as("registers/set is a route, not the register named set")
                .isEmpty();
    }

    @Test
    void everyRequestBodyIsDocumentedWithItsFields() throws IOException {
        Map<String, Set<String>> read = new TreeMap<>();
        for (Class<?> body : HttpRequests.class.getDeclaredClasses()) {
            if (body.isRecord()) {
                for (String operation : OPERATIONS.getOrDefault(body.getSimpleName(), List.of(lowerFirst(body)))) {
                    read.put(operation, fields(body));
                }
            }
        }
        read.put("addMember", fields(io.holdfast.model.MembershipChange.Add.class));
        // Writes without fields still take a JSON body, {} (a cross-site form cannot send one).
        read.put("keepAlive", Set.of());
        read.put("endSession", Set.of());
        Map<String, Set<String>> documented = new TreeMap<>();
        for (var path : spec().get("paths").properties()) {
            for (var op : path.getValue().properties()) {
                JsonNode schema = op.getValue()
                        .path("requestBody")
                        .path("content")
                        .path("application/json")
                        .path("schema");
                if (!schema.isMissingNode()) {
                    documented.put(op.getValue().get("operationId").asText(), names(schema.get("properties")));
                }
            }
        }
        assertThat(read)
                .as("the fields of each body HttpRequests reads, against openapi.json's requestBody")
                .isEqualTo(documented);
    }

    /**
     * A client generated from openapi.json (holdfast-openapi's {@code GeneratedClientTest}) can read
     * each answer: every 2xx answer declares a schema for each of its media types, and every tag an
     * operation uses is one of the document's tags.
     */
    @Test
    void everySuccessfulAnswerHasItsSchemaAndEveryTagIsDeclared() throws IOException {
        JsonNode spec = spec();
        Set<String> declared = new TreeSet<>();
        spec.path("tags").forEach(t -> declared.add(t.path("name").asText()));
        Set<String> withoutSchema = new TreeSet<>();
        Set<String> undeclaredTags = new TreeSet<>();
        for (var path : spec.get("paths").properties()) {
            for (var op : path.getValue().properties()) {
                String id = op.getValue().path("operationId").asText();
                op.getValue().path("tags").forEach(t -> {
                    if (!declared.contains(t.asText())) {
                        undeclaredTags.add(id + ": " + t.asText());
                    }
                });
                for (var answer : op.getValue().path("responses").properties()) {
                    if (!answer.getKey().startsWith("2")) {
                        continue;
                    }
                    JsonNode content = answer.getValue().path("content");
                    if (content.isEmpty()) {
                        withoutSchema.add(id + " " + answer.getKey());
                    }
                    content.properties().forEach(media -> {
                        if (media.getValue().path("schema").isMissingNode()) {
                            withoutSchema.add(id + " " + answer.getKey() + " " + media.getKey());
                        }
                    });
                }
            }
        }
        assertThat(withoutSchema).as("2xx answers without a schema").isEmpty();
        assertThat(undeclaredTags).as("tags missing from the document's tags").isEmpty();
    }

    /** The operations whose body a record of {@link HttpRequests} is, where it is not the one it is named after. */
    private static final Map<String, List<String>> OPERATIONS = Map.of(
            "Grant", List.of("release", "renew"),
            "Member", List.of("removeMember", "promoteMember", "transferLeader"));

    private static Set<String> names(JsonNode object) {
        Set<String> out = new TreeSet<>();
        object.properties().forEach(p -> out.add(p.getKey()));
        return out;
    }

    private static String lowerFirst(Class<?> c) {
        return Character.toLowerCase(c.getSimpleName().charAt(0))
                + c.getSimpleName().substring(1);
    }

    /** A body's JSON fields: its record's components, the caller's numbering as its three fields. */
    private static Set<String> fields(Class<?> record) {
        Set<String> out = new TreeSet<>();
        for (RecordComponent c : record.getRecordComponents()) {
            if (c.getType() == HttpSessions.Caller.class) {
                out.addAll(List.of("session", "requestId", "ackedBelow"));
            } else {
                out.add(c.getName());
            }
        }
        return out;
    }

    /** {@code METHOD /path} of every row, with {@code operationId audience}. */
    private static Map<String, String> served() {
        Map<String, String> out = new TreeMap<>();
        for (Route r : HttpRoutes.TABLE) {
            out.put(
                    r.method() + " " + r.openApiPath(),
                    r.operationId() + " " + r.audience().name().toLowerCase(Locale.ROOT)
                            + (r.audience() == Audience.OPEN ? " security:none" : ""));
        }
        return out;
    }

    /** {@code METHOD /path} of every operation of openapi.json, with {@code operationId tag}. */
    private static Map<String, String> documented() throws IOException {
        JsonNode spec = spec();
        Map<String, String> out = new TreeMap<>();
        for (var path : spec.get("paths").properties()) {
            for (var op : path.getValue().properties()) {
                JsonNode security = op.getValue().get("security");
                out.put(
                        op.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey(),
                        op.getValue().path("operationId").asText() + " "
                                + op.getValue().path("tags").path(0).asText()
                                + (security != null && security.isEmpty() ? " security:none" : ""));
            }
        }
        return out;
    }

    private static JsonNode spec() throws IOException {
        try (InputStream in = HttpRouteTableTest.class.getResourceAsStream("dashboard/openapi.json")) {
            assertThat(in).as("openapi.json on the class path").isNotNull();
            return JSON.readTree(in);
        }
    }
}
