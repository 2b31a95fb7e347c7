package io.holdfast.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.holdfast.Election;
import io.holdfast.InvalidArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The records registers hold (docs/protocol.md) read by the Java client as every client must: the
 * shared vectors of {@code clients/vectors/records.json}, which the Python, Node and Go clients'
 * tests read too. A vector's expectation is its fields after {@code record}, joined by spaces, or
 * {@code invalid}.
 */
class RecordVectorsTest {
    private static final Path VECTORS = Path.of("..", "clients", "vectors", "records.json");
    private static final int BARRIER_PARTIES = 5;

    @Test
    void electionRecordsReadAsTheVectorsSay() throws IOException {
        assertReadAsTheVectorsSay(
                "election",
                record -> Election.Leader.proclaimed("e", record)
                        .map(l -> l.epoch() + " " + l.value())
                        .orElse("invalid"));
    }

    @Test
    void latchRecordsReadAsTheVectorsSay() throws IOException {
        assertReadAsTheVectorsSay("latch", record -> {
            try {
                RegisterLatch.State s = RegisterLatch.decode("l", record);
                return s.generation() + " " + s.count();
            } catch (InvalidArgumentException e) {
                return "invalid";
            }
        });
    }

    @Test
    void barrierRecordsReadAsTheVectorsSay() throws IOException {
        assertReadAsTheVectorsSay("barrier", record -> {
            try {
                RegisterBarrier.State s = RegisterBarrier.decode("b", BARRIER_PARTIES, record);
                return s.generation() + " " + s.arrived() + " " + s.parties();
            } catch (InvalidArgumentException e) {
                return "invalid";
            }
        });
    }

    private static void assertReadAsTheVectorsSay(String kind, Function<byte[], String> read) throws IOException {
        JsonNode vectors = new ObjectMapper().readTree(VECTORS.toFile()).get(kind);
        assertThat(vectors).as("the %s vectors of %s", kind, VECTORS).isNotEmpty();
        List<String> wrong = new ArrayList<>();
        for (JsonNode v : vectors) {
            List<String> fields = new ArrayList<>();
            v.properties().forEach(f -> fields.add(f.getValue().asText()));
            String expected = v.has("invalid") ? "invalid" : String.join(" ", fields.subList(1, fields.size()));
            JsonNode record = v.get("record");
            String actual = read.apply(record.isNull() ? null : record.asText().getBytes(StandardCharsets.UTF_8));
            if (!expected.equals(actual)) {
                wrong.add(v + " read as " + actual);
            }
        }
        assertThat(wrong)
                .as("%s records read otherwise than their vectors say", kind)
                .isEmpty();
    }
}
