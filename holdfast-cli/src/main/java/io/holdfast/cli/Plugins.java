package io.holdfast.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * The commands found at run time ({@link CliCommand}) added to the command line, and a hidden stand-in for each
 * command of the repository's lab that is not there: {@code holdfast bench} and {@code holdfast demo coupons} in
 * the distribution, which carries neither the benchmarks nor the example. A stand-in accepts any arguments
 * ({@code --help} too) and fails with one line saying where the command runs ({@link ExitCodes#USAGE}).
 */
final class Plugins {
    /** A command of the lab: where it goes, its name, and what runs from a repository checkout. */
    private record Lab(List<String> parent, String name, String what) {}

    private static final List<Lab> LAB = List.of(
            new Lab(List.of(), "bench", "the benchmarks run"),
            new Lab(List.of("demo"), "coupons", "the coupons example runs"));

    private Plugins() {}

    /** The commands that jars on the class path name in {@code META-INF/services/io.holdfast.cli.CliCommand}. */
    static Iterable<CliCommand> onClassPath() {
        return ServiceLoader.load(CliCommand.class, Main.class.getClassLoader());
    }

    /**
     * Adds each of {@code found} under its parent, then a stand-in for each lab command still missing. A parent
     * that is no command, or a name taken already, is an {@link IllegalStateException} naming the class.
     */
    static void attach(CommandLine root, Iterable<CliCommand> found) {
        for (CliCommand command : found) {
            CommandLine parent = commandAt(
                    root, command.parent(), "the command " + command.getClass().getName());
            try {
                parent.addSubcommand(command);
            } catch (CommandLine.InitializationException e) {
                throw new IllegalStateException(
                        "the command " + command.getClass().getName() + " cannot be added: " + e.getMessage(), e);
            }
        }
        for (Lab lab : LAB) {
            CommandLine parent = commandAt(root, lab.parent(), "the stand-in for " + lab.name());
            if (!parent.getSubcommands().containsKey(lab.name())) {
                String path = String.join(" ", lab.parent()) + (lab.parent().isEmpty() ? "" : " ") + lab.name();
                parent.addSubcommand(
                        lab.name(),
                        new CommandLine(new NotInThisBuild("not in this build: " + lab.what()
                                + " from a Holdfast repository checkout, as ./holdfast " + path)));
            }
        }
    }

    private static CommandLine commandAt(CommandLine root, List<String> names, String what) {
        CommandLine at = root;
        for (String name : names) {
            at = at.getSubcommands().get(name);
            if (at == null) {
                throw new IllegalStateException(
                        what + " goes under 'holdfast " + String.join(" ", names) + "', which is no command");
            }
        }
        return at;
    }

    /** The stand-in for a lab command this build does not carry. */
    @Command(hidden = true, description = "Not in this build: it runs from a Holdfast repository checkout.")
    static final class NotInThisBuild implements Callable<Integer> {
        @Unmatched
        List<String> arguments = new ArrayList<>();

        private final String message;

        NotInThisBuild(String message) {
            this.message = message;
        }

        @Override
        public Integer call() {
            throw new CliFailure(ExitCodes.USAGE, message);
        }
    }
}
