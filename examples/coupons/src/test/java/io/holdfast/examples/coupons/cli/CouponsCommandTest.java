package io.holdfast.examples.coupons.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.cli.ExitCodes;
import io.holdfast.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code holdfast demo coupons} as the CLI runs it (found through this module's {@code META-INF/services}, under
 * {@code holdfast demo}): option mapping and exit codes. The engine, and that a broken fencing check fails the
 * run, are tested in CouponsDemoTest.
 */
class CouponsCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @TempDir
    Path logs;

    private int coupons(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "demo";
        all[1] = "coupons";
        System.arraycopy(args, 0, all, 2, args.length);
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(all);
    }

    @Test
    void pessimisticWithAPausedHolderRefusesTheStaleWriteAndExitsZero() {
        int exit = coupons(
                "--strategy",
                "pessimistic",
                "--pause-holder",
                "--instances",
                "2",
                "--threads",
                "2",
                "--users",
                "60",
                "--stock",
                "20",
                "--logs",
                logs.toString());

        assertThat(exit).as(out + "\n" + err).isZero();
        assertThat(out.toString())
                .contains("2 instances x 2 threads; 60 users asking 2 times each; 1 campaign of 20 coupons")
                .contains("SIGSTOP", "SIGCONT")
                .contains("the victim's write: refused: the row carries a newer fencing token")
                .contains("double redemptions 0, over stock 0, over the per-user limit 0")
                .doesNotContain("optimistic:", "none:");
        assertThat(Files.exists(logs.resolve("pessimistic/instance-1.log")))
                .as("--logs keeps the logs")
                .isTrue();
    }

    @Test
    void demoListsCouponsAndItsHelpIsItsOwn() {
        assertThat(Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                        .execute("demo", "--help"))
                .isZero();
        assertThat(out.toString()).contains("  coupons ");
        out.getBuffer().setLength(0);
        assertThat(coupons("--help")).isZero();
        assertThat(out.toString()).startsWith("Usage: holdfast demo coupons").contains("--pause-holder");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void badOptionsAreOneLineUsageErrors() {
        assertThat(coupons("--strategy", "pesimistic")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("unknown strategy 'pesimistic': expected pessimistic, optimistic or none");
        err.getBuffer().setLength(0);
        assertThat(coupons("--pause-holder", "--instances", "1")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString().lines())
                .singleElement()
                .asString()
                .contains("--instances must be between 2 and 16, not 1");
        err.getBuffer().setLength(0);
        assertThat(coupons("--work", "soon")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--work");
    }
}
