package io.holdfast.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code holdfast demo}: threads competing for a few locks on the in-process {@code mem:} provider. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = "Show locks at work: threads compete for a few locks in-process (mem:) and print each grant.")
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine()
                .getErr()
                .println("holdfast demo: not yet available (it arrives with the client API and the mem: provider)");
        return ExitCodes.NOT_AVAILABLE;
    }
}
