package io.holdfast.cli;

import io.holdfast.endpoint.ClientPort;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast cds-training} (hidden): what the launcher runs once, with {@code
 * -XX:ArchiveClassesAtExit}, to make the class-data-sharing archive that short commands start
 * with. It runs {@code holdfast lock} against a client port served in this process over an
 * in-memory table, so that the archive holds the classes of a real {@code holdfast://} lock: the
 * command line, the client runtime and the frames transport. It touches nothing outside the
 * process. Exit code: that of the lock command (0).
 */
@Command(name = "cds-training", hidden = true, description = "Make the launcher's class archive (internal).")
final class CdsTrainingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LocalNode node =
                LocalNode.named("cds-training-" + ProcessHandle.current().pid());
        try (ClientPort port = ClientPort.start("127.0.0.1", 0, new LocalTransport(node))) {
            return spec.root()
                    .commandLine()
                    .execute(
                            "lock",
                            "holdfast-cds-training",
                            "--backend",
                            "holdfast://127.0.0.1:" + port.port(),
                            "--",
                            "true");
        }
    }
}
