package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The API is the home of the refusals' words that {@code clients/vectors/messages.json} holds for
 * the clients in other languages, whose tests read it too: {@link CountersTest} and {@link
 * ExpectedVersionsTest} hold the API to every example ({@link #examples}), and this test that the
 * file holds exactly the messages they read, each naming {@code java} among its clients.
 */
class MessageVectorsTest {
    private static final Path VECTORS = Path.of("..", "clients", "vectors", "messages.json");

    /** The messages {@link CountersTest} and {@link ExpectedVersionsTest} read. */
    static final List<String> WORDED_BY_THE_API = List.of("notACounter", "counterOverflow", "versionConflict");

    private static JsonNode messages() {
        try {
            return new ObjectMapper().readTree(VECTORS.toFile()).get("messages");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The examples of message {@code name}: each a {@code key}, what it was given and its {@code message}. */
    static List<JsonNode> examples(String name) {
        List<JsonNode> found = new ArrayList<>();
        for (JsonNode m : messages()) {
            if (m.get("name").asText().equals(name)) {
                m.get("examples").forEach(found::add);
            }
        }
        assertThat(found).as("the examples of %s in %s", name, VECTORS).isNotEmpty();
        return found;
    }

    @Test
    void theFileHoldsExactlyTheMessagesTheApiWords() {
        TreeSet<String> names = new TreeSet<>();
        for (JsonNode m : messages()) {
            String name = m.get("name").asText();
            assertThat(m.get("clients").toString())
                    .as("%s names java: the API is every message's home", name)
                    .contains("\"java\"");
            assertThat(names.add(name)).as("%s once", name).isTrue();
        }
        assertThat(names).isEqualTo(new TreeSet<>(WORDED_BY_THE_API));
    }
}
