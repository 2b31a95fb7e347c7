package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Commands found at run time ({@link CliCommand}) and the stand-ins for the lab commands this module's class path
 * does not carry (holdfast-cli depends on neither holdfast-bench nor the coupons example, as the distribution).
 */
class PluginsTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(List<CliCommand> found, Map<String, String> env, String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), env, found)
                .execute(args);
    }

    private int run(String... args) {
        return Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true), Map.of())
                .execute(args);
    }

    @Test
    void withoutTheLabBenchAndDemoCouponsSayWhereTheyRunInOneLine() {
        for (List<String> args : List.of(
                List.of("bench"),
                List.of("bench", "--help"),
                List.of("bench", "--clients", "64", "--locks", "1"),
                List.of("demo", "coupons"),
                List.of("demo", "coupons", "--help"))) {
            err.getBuffer().setLength(0);
            assertThat(run(args.toArray(String[]::new))).as(args.toString()).isEqualTo(ExitCodes.USAGE);
            String command = args.get(0).equals("bench") ? "bench" : "demo coupons";
            assertThat(err.toString().lines())
                    .as(args.toString())
                    .containsExactly("holdfast " + command + ": not in this build: "
                            + (command.equals("bench") ? "the benchmarks run" : "the coupons example runs")
                            + " from a Holdfast repository checkout, as ./holdfast " + command);
        }
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void theStandInsAreNotListed() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString()).contains("  demo ", "  verify ").doesNotContain("bench");
        out.getBuffer().setLength(0);
        assertThat(run("demo", "--help")).isZero();
        assertThat(out.toString()).doesNotContain("  coupons ");
    }

    @Test
    void aCommandFoundAtRunTimeRunsWhereItSaysWithTheEnvironmentOfTheOthers() {
        List<CliCommand> found = List.of(new Hello(), new DemoExtra());

        assertThat(run(found, Map.of(Backends.ENV, "mem:plugins"), "hello")).isZero();
        assertThat(out.toString()).isEqualTo("hello from mem:plugins" + System.lineSeparator());

        out.getBuffer().setLength(0);
        assertThat(run(found, Map.of(), "demo", "extra")).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(err.toString().lines()).containsExactly("holdfast demo extra: planted failure");

        out.getBuffer().setLength(0);
        assertThat(run(found, Map.of(), "--help")).isZero();
        assertThat(out.toString())
                .as("listed in the order of the built-in list: before verify and help")
                .containsSubsequence("  demo ", "  hello ", "  verify ", "  help ");
    }

    @Test
    void aCommandFoundAtRunTimeReplacesItsStandIn() {
        assertThat(run(List.of(new Bench()), Map.of(), "bench")).isZero();
        assertThat(out.toString()).isEqualTo("the real bench" + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void aCommandUnderNoCommandOrUnderATakenNameIsReported() {
        assertThatThrownBy(() -> run(List.of(new Orphan()), Map.of(), "--help"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "the command " + Orphan.class.getName() + " goes under 'holdfast nosuch', which is no command");
        assertThatThrownBy(() -> run(List.of(new Bench(), new Bench()), Map.of(), "--help"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("the command " + Bench.class.getName() + " cannot be added: ");
    }

    @Command(name = "hello", description = "Says hello to the backend.")
    static final class Hello implements Callable<Integer>, CliCommand {
        @Spec
        CommandSpec spec;

        @Mixin
        BackendOption backend;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println("hello from " + backend.uri());
            return ExitCodes.OK;
        }
    }

    @Command(name = "extra", description = "Fails on purpose.")
    static final class DemoExtra implements Callable<Integer>, CliCommand {
        @Override
        public List<String> parent() {
            return List.of("demo");
        }

        @Override
        public Integer call() {
            throw new CliFailure(ExitCodes.CHECK_FAILED, "planted failure");
        }
    }

    @Command(name = "bench")
    static final class Bench implements Callable<Integer>, CliCommand {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println("the real bench");
            return ExitCodes.OK;
        }
    }

    @Command(name = "orphan")
    static final class Orphan implements Callable<Integer>, CliCommand {
        @Override
        public List<String> parent() {
            return List.of("nosuch");
        }

        @Override
        public Integer call() {
            return ExitCodes.OK;
        }
    }
}
