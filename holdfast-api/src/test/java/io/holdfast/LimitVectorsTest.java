package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The API is the home of every limit a client can meet, and {@code clients/vectors/limits.json}
 * holds the same values for the clients in other languages, whose tests read it too: the API's
 * constants equal the file's values, and the file names no limit the API lacks (every limit names
 * {@code java} among its clients).
 */
class LimitVectorsTest {
    private static final Path VECTORS = Path.of("..", "clients", "vectors", "limits.json");

    /** Each limit of the file, in its unit, from the API's constant. */
    private static Map<String, Long> apiLimits() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("anyVersion", Keys.ANY_VERSION);
        m.put("maxTxnOps", (long) Keys.MAX_TXN_OPS);
        m.put("maxTxnBytes", (long) Keys.MAX_TXN_BYTES);
        m.put("maxPage", (long) Keys.MAX_PAGE);
        m.put("maxPageBytes", (long) Keys.MAX_PAGE_BYTES);
        m.put("minKeyTtlMillis", Duration.ofSeconds(Keys.MIN_TTL_SECONDS).toMillis());
        m.put("maxKeyTtlMillis", Duration.ofDays(Keys.MAX_TTL_DAYS).toMillis());
        m.put("maxValueBytes", (long) Keys.MAX_VALUE_BYTES);
        m.put("maxNameBytes", (long) Names.MAX_NAME_BYTES);
        m.put("maxKeysPerSession", (long) Keys.MAX_KEYS_PER_SESSION);
        m.put("maxLeaderValueBytes", (long) Election.MAX_VALUE_BYTES);
        m.put("minSessionTtlMillis", ClientOptions.MIN_SESSION_TTL.toMillis());
        m.put("maxSessionTtlMillis", ClientOptions.MAX_SESSION_TTL.toMillis());
        m.put("maxLockDelayMillis", ClientOptions.MAX_LOCK_DELAY.toMillis());
        m.put("maxClientNameChars", (long) ClientOptions.MAX_CLIENT_NAME);
        m.put("maxWaitMillis", AcquireOptions.MAX_DURATION.toMillis());
        m.put("minLeaseMillis", AcquireOptions.MIN_LEASE_TIMEOUT.toMillis());
        m.put("maxPermits", (long) DistributedSemaphore.MAX_PERMITS);
        m.put("maxMultiLockNames", (long) DistributedMultiLock.MAX_NAMES);
        m.put("sessionRenewalFirstMillis", io.holdfast.internal.Backoffs.SESSION_RENEWAL_FIRST.toMillis());
        m.put("sessionRenewalCapMillis", io.holdfast.internal.Backoffs.SESSION_RENEWAL_CAP.toMillis());
        m.put("rejoinFirstMillis", io.holdfast.internal.Backoffs.REJOIN_FIRST.toMillis());
        m.put("rejoinCapMillis", io.holdfast.internal.Backoffs.REJOIN_CAP.toMillis());
        return m;
    }

    @Test
    void theApisConstantsAreTheSharedLimits() throws IOException {
        JsonNode limits = new ObjectMapper().readTree(VECTORS.toFile()).get("limits");
        assertThat(limits).as("the limits of %s", VECTORS).isNotEmpty();
        Map<String, Long> file = new TreeMap<>();
        for (JsonNode limit : limits) {
            String name = limit.get("name").asText();
            assertThat(limit.get("value").canConvertToLong()).as(name).isTrue();
            assertThat(limit.get("clients").toString())
                    .as("%s names java: the API is every limit's home", name)
                    .contains("\"java\"");
            assertThat(file.put(name, limit.get("value").asLong()))
                    .as("%s once", name)
                    .isNull();
        }
        assertThat(new TreeMap<>(apiLimits())).isEqualTo(file);
    }
}
