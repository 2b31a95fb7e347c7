package io.holdfast.cli;

import io.holdfast.InvalidArgumentException;
import io.holdfast.core.AccessRules;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast auth FILE}: replaces the access rules of a running Holdfast cluster, through its
 * log (so every node enforces the new rules from the same entry on). Needs the {@code admin} verb
 * while rules are in force. The file is checked here first, so a typo is one line naming it.
 */
@Command(
        name = "auth",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Replace the access rules of a running Holdfast cluster (needs admin), or turn access control off.",
            "",
            "Example:  holdfast auth rules.txt --backend 'holdfast://127.0.0.1:4653?ca=certs/ca.pem"
                    + "&cert=certs/ops.pem&key=certs/ops-key.pem'",
            "The rules' format is in docs/security.md."
        })
final class AuthCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    BackendOption backend;

    @ArgGroup(multiplicity = "1")
    What what;

    static final class What {
        @Parameters(paramLabel = "FILE", description = "The new access rules.")
        Path file;

        @Option(names = "--off", description = "Turn access control off (every client may do everything).")
        boolean off;
    }

    @Override
    public Integer call() throws InterruptedException {
        String rules = null;
        if (what.file != null) {
            try {
                rules = AccessRules.parse(Main.readFile(what.file)).text();
            } catch (InvalidArgumentException e) {
                throw new CliFailure(ExitCodes.USAGE, what.file + ": " + e.getMessage(), e);
            }
        }
        ServerCalls.submit(
                backend.uri(),
                "access rules",
                CallTimeout.DEFAULT,
                new io.holdfast.model.Command.SetAccessRules(rules));
        return Main.printed(
                spec, rules == null ? "Access control is off." : "The access rules of " + what.file + " are in force.");
    }
}
