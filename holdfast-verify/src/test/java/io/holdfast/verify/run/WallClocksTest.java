package io.holdfast.verify.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process started with {@link WallClocks}' environment runs its wall clock where the harness puts
 * it, and its monotonic clock where it was; CI installs libfaketime and requires this test
 * ({@code HOLDFAST_REQUIRE_LIBFAKETIME}).
 */
class WallClocksTest {
    /** Prints its wall clock and monotonic clock (ms) each time a line comes in on stdin. */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
            System.out.println("READY");
            while (in.readLine() != null) {
                System.out.println("NOW " + System.currentTimeMillis() + " " + System.nanoTime() / 1_000_000);
            }
        }
    }

    @Test
    void aShiftMovesTheProcessWallClockAndLeavesItsMonotonicClock(@TempDir Path dir) throws Exception {
        WallClocks clocks = clocksOrSkip(dir);
        Child child = Child.start(
                "probe",
                List.of("-Xmx64m"),
                Probe.class.getName(),
                List.of(),
                dir.resolve("probe.log"),
                clocks.environment("probe"));
        try {
            child.expect(Duration.ofSeconds(60), "READY");
            long[] before = ask(child);
            assertThat(Math.abs(before[0] - System.currentTimeMillis()))
                    .as("ms off before a shift")
                    .isLessThan(5_000);

            clocks.shift("probe", 3600);
            Thread.sleep((WallClocks.REREAD_SECONDS + 1) * 1000L);
            long[] ahead = ask(child);
            long off = ahead[0] - System.currentTimeMillis();
            assertThat(off).as("ms the wall clock runs ahead after +3600 s").isBetween(3_595_000L, 3_605_000L);
            assertThat(ahead[1] - before[1]).as("ms the monotonic clock moved").isBetween(0L, 60_000L);

            clocks.shift("probe", -600);
            Thread.sleep((WallClocks.REREAD_SECONDS + 1) * 1000L);
            long behind = ask(child)[0] - System.currentTimeMillis();
            assertThat(behind).as("ms the wall clock runs behind after -600 s").isBetween(-605_000L, -595_000L);
        } finally {
            child.kill();
        }
    }

    @Test
    void offsetsAreWrittenInLibfaketimesRelativeForm() {
        assertThat(WallClocks.offset(3600)).isEqualTo("+3600");
        assertThat(WallClocks.offset(-60)).isEqualTo("-60");
        assertThat(WallClocks.offset(0)).isEqualTo("+0");
    }

    private static long[] ask(Child child) throws Exception {
        child.send("now");
        String[] parts = child.expect(Duration.ofSeconds(30), "NOW ").split(" ");
        return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
    }

    private static WallClocks clocksOrSkip(Path dir) throws IOException {
        try {
            return WallClocks.in(dir.resolve("clocks"));
        } catch (IOException e) {
            if ("true".equalsIgnoreCase(System.getenv("HOLDFAST_REQUIRE_LIBFAKETIME"))) {
                throw new AssertionError(e.getMessage() + ", and HOLDFAST_REQUIRE_LIBFAKETIME asks for it", e);
            }
            Assumptions.abort(e.getMessage() + ": skipped");
            throw e;
        }
    }
}
