package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    private String theOneErrorLine() {
        assertThat(err.toString().lines()).hasSize(1);
        return err.toString().strip();
    }

    @Test
    void aSoakOfNothingIsAUsageErrorOfOneLine() {
        assertThat(run("verify", "--soak", "0s")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).isEqualTo("holdfast verify: --soak must be positive");
    }

    @Test
    void anAvailabilityBoundOfNothingIsAUsageErrorOfOneLine() {
        assertThat(run("verify", "--max-kill-gap", "0s", "--scenario", "leader-kill"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).isEqualTo("holdfast verify: --max-kill-gap and --max-heal-gap must be positive");
    }

    @Test
    void aSoakPicksItsOwnScenariosAndSoRefusesOneNamed() {
        assertThat(run("verify", "--soak", "10m", "--scenario", "leader-kill")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine())
                .isEqualTo("holdfast verify: --soak picks the scenario and seed of every round itself: it does not take"
                        + " --scenario");
    }

    @Test
    void aSoakTakesTheLengthOfARoundAsRoundDurationAndRefusesDurationAndBug() {
        assertThat(run("verify", "--soak", "10m", "--duration", "5s")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).endsWith("it does not take --duration (a round's length is --round-duration)");

        err.getBuffer().setLength(0);
        assertThat(run("verify", "--soak", "10m", "--bug", "token-from-term")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).endsWith("it does not take --bug");

        err.getBuffer().setLength(0);
        assertThat(run("verify", "--soak", "10m", "--round-duration", "0s")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).isEqualTo("holdfast verify: --round-duration must be positive");

        err.getBuffer().setLength(0);
        assertThat(run("verify", "--round-duration", "5s", "--scenario", "baseline"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine()).isEqualTo("holdfast verify: --round-duration goes with --soak");
    }

    @Test
    void aSoakOfAnUnknownDurationSyntaxIsAUsageErrorNamingTheValue() {
        assertThat(run("verify", "--soak", "3x")).isEqualTo(ExitCodes.USAGE);
        assertThat(theOneErrorLine())
                .startsWith(
                        "holdfast verify: Invalid value for option '--soak': '3x' is not a duration: unknown unit 'x'");
        assertThat(out.toString()).isEmpty();
    }

    /** One real round (the duration is shorter than a round, and the first always runs). */
    @Test
    void aShortSoakPrintsItsSeedOneLinePerRoundAndTheTotals(@TempDir Path dir) throws Exception {
        int exit = run("verify", "--soak", "1ms", "--round-duration", "3s", "--seed", "7", "--out", dir.toString());

        System.out.print(out);
        List<String> lines = out.toString().lines().toList();
        assertThat(lines).as(out.toString()).hasSize(3);
        assertThat(lines.get(0))
                .startsWith("soak: 1ms in rounds of 3s, master seed 7;")
                .endsWith("(this soak again: holdfast verify --soak 1ms --round-duration 3s --seed 7 --clients 4)");
        // which scenario seed 7 deals depends on the list of scenarios: any of them, named
        assertThat(lines.get(1)).matches("round 1  [a-z-]+ +seed \\d+ .* violations +\\S+.*");
        boolean passed = lines.get(1).matches(".* violations +PASS .*");
        assertThat(lines.get(2))
                .startsWith("soak: 1 rounds, ")
                .contains("1 distinct seeds, 1 of ", passed ? " 0 failed rounds, " : " 1 failed rounds, ");
        assertThat(exit).as(lines.get(1)).isEqualTo(passed ? ExitCodes.OK : ExitCodes.CHECK_FAILED);
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.filter(p -> !p.getFileName().toString().equals("cds")))
                    .as("a passed round leaves nothing; a failed one its directory")
                    .hasSize(passed ? 0 : 1);
        }
        assertThat(err.toString()).isEmpty();
    }
}
