package io.holdfast.it.conformance;

import static io.holdfast.it.conformance.KeyScenarios.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.it.ServerProcesses;
import java.net.http.HttpClient;

/**
 * The conformance scenario of group membership ({@code clients/CONFORMANCE.md}, scenario 11), run
 * by {@link ConformanceTest} for every client: a member name belongs to one live session. A second
 * session's join of a held name is refused ({@code CONFLICT}, the holder's session named) and
 * changes nothing, its leave of it deletes nothing; the holder joining again writes its new value;
 * once the holder leaves, or its session ends, the name can be taken.
 */
final class GroupScenarios {

    private final ServerProcesses cluster;
    private final KeyScenarios.Drivers drivers;
    private final HttpClient http = HttpClient.newHttpClient();

    GroupScenarios(ServerProcesses cluster, KeyScenarios.Drivers drivers) {
        this.cluster = cluster;
        this.drivers = drivers;
    }

    void joinOneHolder(String client) throws Exception {
        String group = "conf/" + client + "/groups/web";
        String key = group + "/i-1";
        try (Driver d = drivers.of(client)) {
            String a = openAlone(d, "a").path("sessionId").asText();
            String b = openAlone(d, "b").path("sessionId").asText();

            ok(d.call(join("a", group, "10.0.0.1:80"), 30));
            ok(d.call(join("a", group, "10.0.0.1:81"), 30));
            assertHeld(d, key, a, "10.0.0.1:81", "the holder joining again writes its new value");

            JsonNode refused = d.call(join("b", group, "10.0.0.2:80"), 30);
            assertThat(refused.path("ok").asBoolean())
                    .as("a second session's join of a held name is refused: %s", refused)
                    .isFalse();
            assertThat(refused.path("error").asText()).as(refused.toString()).isEqualTo("CONFLICT");
            assertThat(refused.path("message").asText())
                    .as("the refusal names the holder's session")
                    .contains(a);
            assertHeld(d, key, a, "10.0.0.1:81", "a refused join changes nothing");

            JsonNode notB = ok(d.call(leave("b", group), 30));
            assertThat(notB.path("left").asBoolean())
                    .as("b was not the member: %s", notB)
                    .isFalse();
            assertHeld(d, key, a, "10.0.0.1:81", "a leave by another session deletes nothing");

            JsonNode left = ok(d.call(leave("a", group), 30));
            assertThat(left.path("left").asBoolean())
                    .as("a was the member: %s", left)
                    .isTrue();
            ok(d.call(join("b", group, "10.0.0.2:80"), 30));
            assertHeld(d, key, b, "10.0.0.2:80", "once the holder left, another session joins");

            JsonNode back = d.call(join("a", group, "10.0.0.1:80"), 30);
            assertThat(back.path("error").asText()).as(back.toString()).isEqualTo("CONFLICT");
            assertThat(back.path("message").asText()).as(back.toString()).contains(b);
            end(b);
            ok(d.call(join("a", group, "10.0.0.1:82"), 30));
            assertHeld(d, key, a, "10.0.0.1:82", "once the holder's session ended, the name is free");
        }
    }

    /**
     * Opens a session that ends the client when it is lost ({@code renewSessions: false}): {@code b}'s
     * session is ended below, and a client that renewed it would join {@code i-1} again (ADR 0004),
     * racing {@code a}'s join that the scenario checks.
     */
    private JsonNode openAlone(Driver d, String client) throws Exception {
        ObjectNode open = Driver.op("open")
                .put("client", client)
                .put("ttlMillis", 10_000)
                .put("clientName", d.name() + "-conformance")
                .put("renewSessions", false);
        cluster.httpUrls().forEach(open.putArray("members")::add);
        return ok(d.call(open, 30));
    }

    private static void assertHeld(Driver d, String key, String owner, String value, String why) throws Exception {
        JsonNode now = ok(d.call(Driver.op("keyGet").put("client", "a").put("key", key), 30));
        assertThat(now.path("owner").asText()).as("%s: %s", why, now).isEqualTo(owner);
        assertThat(now.path("value").asText()).as("%s: %s", why, now).isEqualTo(value);
    }

    private static ObjectNode join(String client, String group, String value) {
        return Driver.op("groupJoin")
                .put("client", client)
                .put("group", group)
                .put("member", "i-1")
                .put("value", value);
    }

    private static ObjectNode leave(String client, String group) {
        return Driver.op("groupLeave").put("client", client).put("group", group).put("member", "i-1");
    }

    /** Ends the session as if its heartbeats had stopped ({@code POST /api/v1/sessions/{id}/end}). */
    private void end(String session) throws Exception {
        KeyScenarios.endSession(cluster, http, session);
    }
}
