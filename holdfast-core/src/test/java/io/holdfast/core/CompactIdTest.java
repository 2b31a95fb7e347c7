package io.holdfast.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.SessionIds;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link CompactId}: which ids fit in two longs, and that those come back character for character. */
class CompactIdTest {
    @Test
    void everyNewIdFitsAndRoundTrips() {
        for (int i = 0; i < 10_000; i++) {
            String id = SessionIds.newId();
            assertThat(CompactId.fits(id)).as(id).isTrue();
            assertThat(CompactId.text(CompactId.high(id), CompactId.low(id))).isEqualTo(id);
        }
    }

    @Test
    void everyBitPatternRoundTrips() {
        Random random = new Random(3);
        for (int i = 0; i < 10_000; i++) {
            long high = random.nextLong();
            long low = random.nextLong();
            String id = CompactId.text(high, low);
            assertThat(CompactId.fits(id)).isTrue();
            assertThat(CompactId.high(id)).isEqualTo(high);
            assertThat(CompactId.low(id)).isEqualTo(low);
            long[] parsed = new long[2];
            assertThat(CompactId.parse(id, parsed)).isEqualTo(high != 0 || low != 0);
            if (high != 0 || low != 0) {
                assertThat(parsed).containsExactly(high, low);
            }
        }
        String ones = CompactId.text(-1, -1);
        assertThat(ones).isEqualTo("_____________________w");
        assertThat(CompactId.text(CompactId.high(ones), CompactId.low(ones))).isEqualTo(ones);
    }

    /** Base64 decoders ignore the last character's spare bits: these two ids must stay two. */
    @Test
    void anIdWithSpareBitsSetIsKeptAsText() {
        String canonical = "AAAAAAAAAAAAAAAAAAAAAQ";
        assertThat(CompactId.fits(canonical)).isTrue();
        for (char last : "BCDEFGHIJKLMNOPRSTUVWXYZabcdefhijklmnopqrstuvxyz0123456789-_".toCharArray()) {
            assertThat(CompactId.fits("AAAAAAAAAAAAAAAAAAAAA" + last))
                    .as("ends with " + last)
                    .isFalse();
            assertThat(CompactId.parse("AAAAAAAAAAAAAAAAAAAAA" + last, new long[2]))
                    .isFalse();
        }
    }

    @Test
    void otherLengthsOtherCharactersAndZeroAreKeptAsText() {
        assertThat(CompactId.fits("session-aaaaaaaaaa")).as("18 characters").isFalse();
        assertThat(CompactId.fits("session-aaaaaaaaaaaaaaa"))
                .as("23 characters")
                .isFalse();
        assertThat(CompactId.fits("session.aaaaaaaaaaaaaA")).as("a dot").isFalse();
        assertThat(CompactId.fits("sessionéaaaaaaaaaaaaaA")).as("not ASCII").isFalse();
        assertThat(CompactId.fits("AAAAAAAAAAAAAAAAAAAAAA")).as("all bits zero").isFalse();
        for (String id : List.of(
                "session-aaaaaaaaaa", "session.aaaaaaaaaaaaaA", "sessionéaaaaaaaaaaaaaA", "AAAAAAAAAAAAAAAAAAAAAA")) {
            assertThat(CompactId.parse(id, new long[2])).as(id).isFalse();
        }
    }

    /** The property tests' sessions: two kept as text, two as bits. */
    @Test
    void thePropertyTestsUseBothKindsOfIds() {
        assertThat(PropertyClients.SESSION_IDS)
                .extracting(CompactId::fits)
                .containsExactly(false, true, false, true, false);
    }

    /** {@link SessionIndex} against a map: ids that fit and ids that do not, added and removed at random. */
    @Test
    void theIndexFindsWhatAMapFinds() {
        Random random = new Random(11);
        SessionIndex<Session> index = new SessionIndex<>();
        Map<String, Session> reference = new HashMap<>();
        String[] ids = new String[3_000];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = switch (i % 3) {
                case 0 -> SessionFootprintTest.newId(random);
                case 1 -> "session-" + i + "-aaaaaaaaaa";
                default -> "AAAAAAAAAAAAAAAAAA" + String.format("%03d", i % 1000) + "AQgwBC".charAt(i % 6);
            };
        }
        for (int step = 0; step < 50_000; step++) {
            String id = ids[random.nextInt(ids.length)];
            Session known = reference.get(id);
            if (known == null) {
                Session s = new Session(id, null, "c", 10_000, 0, 0);
                assertThat(index.add(s)).isTrue();
                reference.put(id, s);
            } else if (random.nextBoolean()) {
                assertThat(index.add(new Session(id, null, "c", 10_000, 0, 0))).isFalse();
                index.remove(known);
                reference.remove(id);
            }
            String probe = ids[random.nextInt(ids.length)];
            assertThat(index.get(probe)).isSameAs(reference.get(probe));
            assertThat(index.size()).isEqualTo(reference.size());
        }
        assertThat(index.all()).containsExactlyInAnyOrderElementsOf(reference.values());
        for (Session s : index.all()) {
            assertThat(s.id()).isIn(reference.keySet());
        }
    }
}
