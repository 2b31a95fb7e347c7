package io.holdfast.bench.population;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class KillTimelineTest {
    private static final Pattern HEADER = Pattern.compile(
            "kill timeline \\(times from the kill's mark at (\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?) UTC; killed"
                    + " 127\\.0\\.0\\.1:1\\):");

    @Test
    void namesTheKillsMarkOnTheWallClockAndTellsEachConnectionOfTheKilledHome() throws Exception {
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try {
            KillTimeline timeline = new KillTimeline();
            List<String> homes = List.of("127.0.0.1:1", "127.0.0.1:2");
            LocalTime before = LocalTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
            timeline.start(homes.size(), homes::get, timers);
            LocalTime after = LocalTime.now(ZoneOffset.UTC);
            long sent = System.nanoTime();
            timeline.sent(0);
            timeline.acknowledged(0, sent);

            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            timeline.print(
                    new PrintStream(bytes, true, StandardCharsets.UTF_8), "127.0.0.1:1", homes, c -> 1000, c -> 0);
            String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");

            Matcher header = HEADER.matcher(lines[0]);
            assertThat(header.matches()).as(lines[0]).isTrue();
            LocalTime mark = LocalTime.parse(header.group(1));
            if (after.isBefore(before)) { // the clock passed midnight between the two reads
                assertThat(!mark.isBefore(before) || !mark.isAfter(after))
                        .as(mark.toString())
                        .isTrue();
            } else {
                assertThat(mark).isBetween(before, after);
            }
            // The connection homed on the killed member is told; the other, which did not move, is not.
            assertThat(lines).hasSize(2);
            assertThat(lines[1]).startsWith("  connection 0 home 127.0.0.1:1 sessions 1000 ended 0; moves []");
            assertThat(lines[1]).contains("(1 acks,");
        } finally {
            timers.shutdownNow();
        }
    }
}
