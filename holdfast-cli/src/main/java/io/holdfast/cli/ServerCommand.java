package io.holdfast.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/** {@code holdfast server}: runs a lock server node. A placeholder until the server module lands. */
@Command(
        name = "server",
        mixinStandardHelpOptions = true,
        description = {"Run a Holdfast server node (single node by default).", "Not in this build yet."})
final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Whatever options the future server takes are accepted and ignored, so the message below is what users see. */
    @Unmatched
    List<String> ignored;

    @Override
    public Integer call() {
        spec.commandLine()
                .getErr()
                .println("holdfast server: the server arrives with the server issue; run `./holdfast demo` for now");
        return ExitCodes.NOT_AVAILABLE;
    }
}
