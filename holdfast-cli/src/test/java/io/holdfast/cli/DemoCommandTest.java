package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int demo(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "demo";
        System.arraycopy(args, 0, all, 1, args.length);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all);
    }

    @Test
    void printsEveryGrantAndPassesItsChecksOnAWorkingLock() {
        int exit = demo("--backend", "fake:demo", "--threads", "3", "--locks", "2", "--rounds", "4");

        assertThat(exit).as(err.toString()).isZero();
        assertThat(out.toString().lines().filter(l -> l.contains(" token "))).hasSize(12);
        assertThat(out.toString())
                .contains("demo/counter-0   6 increments (expected 6)")
                .contains("demo/counter-1   6 increments (expected 6)")
                .contains("OK: 12 grants");
    }

    @Test
    void runsOnTheInProcessProviderByDefault() {
        assertThat(demo("--rounds", "2")).as(err.toString()).isZero();
        assertThat(out.toString())
                .startsWith("4 threads x 2 rounds on 2 locks at mem:")
                .contains("OK: 8 grants");
    }

    @Test
    void catchesALockThatDoesNotExclude() {
        int exit = demo("--backend", "fake:broken-demo", "--threads", "4", "--locks", "1", "--rounds", "5");

        assertThat(exit).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(out.toString()).contains("FAILED:").containsPattern("[1-9][0-9]* overlaps");
    }

    @Test
    void outOfRangeCountsAreUsageErrors() {
        assertThat(demo("--threads", "0")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines()).singleElement().asString().contains("--threads must be between 1 and 64");
    }
}
