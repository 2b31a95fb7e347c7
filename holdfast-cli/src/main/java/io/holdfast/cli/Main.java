package io.holdfast.cli;

import io.holdfast.HasErrorCode;
import java.io.PrintWriter;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code holdfast} command. Every outcome is an exit code from {@link ExitCodes} (or, for {@code lock}, the
 * child's own). Bad input prints one line on stderr and exits {@link ExitCodes#USAGE}; an expected failure
 * ({@link CliFailure}) prints one line and exits with its code; no stack trace is printed unless
 * {@code HOLDFAST_DEBUG=1}.
 */
@Command(
        name = "holdfast",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        usageHelpAutoWidth = true,
        description = "Holdfast: distributed locks for the JVM.",
        footer = {"", "Exit codes and examples: docs/cli.md. Set HOLDFAST_DEBUG=1 to see stack traces."},
        subcommands = {
            ServerCommand.class,
            LockCommand.class,
            ElectCommand.class,
            WatchCommand.class,
            KvCommand.class,
            LeaseCommand.class,
            LocksCommand.class,
            SessionsCommand.class,
            MembersCommand.class,
            RevokeCommand.class,
            BackupCommand.class,
            RestoreCommand.class,
            CertsCommand.class,
            TokenCommand.class,
            AuthCommand.class,
            HealthCommand.class,
            DemoCommand.class
            // then, added by commandLine() in this order: the commands found at run time (bench), verify, help
            // and cds-training, server-training
        })
public final class Main implements Callable<Integer> {
    static {
        io.holdfast.server.config.ServerJvm.prepare(); // before anything uses CompletableFuture
    }

    @Spec
    CommandSpec spec;

    /**
     * Runs the command line and exits the JVM with its code. A command on the class path that cannot be loaded
     * ({@link CliCommand}) is one line on stderr and {@link ExitCodes#SOFTWARE}, whatever was asked.
     */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        CommandLine cl;
        try {
            cl = commandLine(out, err, System.getenv());
        } catch (ServiceConfigurationError | IllegalStateException e) {
            err.println("holdfast: a command on the class path cannot be loaded: " + oneLine(e.getMessage()));
            if (debug(System.getenv())) {
                e.printStackTrace(err);
            }
            System.exit(ExitCodes.SOFTWARE);
            return;
        }
        System.exit(cl.execute(args));
    }

    /**
     * The configured command line with every command, those found on the class path ({@link CliCommand})
     * included, writing to {@code out} and {@code err}; {@code env} stands for the process environment (tests
     * pass their own). Each call builds new command objects and looks for the commands on the class path anew.
     *
     * @throws java.util.ServiceConfigurationError when a command on the class path cannot be loaded
     * @throws IllegalStateException when a command on the class path goes under no command or takes a name taken
     *     already
     */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, Map<String, String> env) {
        return commandLine(out, err, env, Plugins.onClassPath());
    }

    /** As {@link #commandLine(PrintWriter, PrintWriter, Map)}, with {@code found} for the commands found at run time. */
    static CommandLine commandLine(
            PrintWriter out, PrintWriter err, Map<String, String> env, Iterable<CliCommand> found) {
        CommandLine cl = new CommandLine(new Main());
        Plugins.attach(cl, found);
        cl.addSubcommand(new VerifyCommand());
        cl.addSubcommand(new HelpCommand());
        cl.addSubcommand(new CdsTrainingCommand());
        cl.addSubcommand(new ServerTrainingCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> failure(e, cmd, env));
        giveEnvironment(cl, env);
        return cl;
    }

    /** Hands {@code env} to every command and mixin that needs it, nested subcommands and mixins too. */
    private static void giveEnvironment(CommandLine cl, Map<String, String> env) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommand() instanceof NeedsEnvironment n) {
                n.environment(env);
            }
            giveEnvironment(sub.getCommandSpec(), env);
            giveEnvironment(sub, env);
        }
    }

    private static void giveEnvironment(CommandSpec spec, Map<String, String> env) {
        for (CommandSpec mixin : spec.mixins().values()) {
            if (mixin.userObject() instanceof NeedsEnvironment n) {
                n.environment(env);
            }
            giveEnvironment(mixin, env);
        }
    }

    /**
     * The text of {@code file}, a file named on the command line.
     *
     * @throws CliFailure ({@value ExitCodes#USAGE}) naming the file and why it cannot be read
     */
    static String readFile(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new CliFailure(ExitCodes.USAGE, "cannot read " + file + ": " + reason(e), e);
        }
    }

    /**
     * Why reading or writing a file failed, in words: {@code no such file}, {@code permission denied}, {@code it is a
     * directory}, else the exception's message ({@link java.nio.file.NoSuchFileException}'s message is the path alone).
     */
    static String reason(java.io.IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * Prints {@code line} on the command's standard output, flushed, and returns {@link ExitCodes#OK}:
     * the end of a command whose outcome is one line ({@code return Main.printed(spec, "Done.")}).
     */
    static int printed(CommandSpec spec, String line) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(line);
        out.flush();
        return ExitCodes.OK;
    }

    /** No subcommand: show what there is, as a usage error. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    private static int usageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        String message = oneLine(e.getMessage());
        if (e instanceof UnmatchedArgumentException u
                && !cmd.getSubcommands().isEmpty()
                && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            message = "unknown command '" + u.getUnmatched().get(0) + "'";
        }
        cmd.getErr().println(name + ": " + message + " (see '" + name + " --help')");
        return ExitCodes.USAGE;
    }

    private static int failure(Exception e, CommandLine cmd, Map<String, String> env) {
        String name = cmd.getCommandSpec().qualifiedName();
        PrintWriter err = cmd.getErr();
        int code;
        if (e instanceof CliFailure f) {
            err.println(name + ": " + oneLine(f.getMessage()));
            code = f.exitCode();
        } else if (e instanceof HasErrorCode f) {
            String message = f.code() == io.holdfast.ErrorCode.UNAVAILABLE ? withRootCause(e) : e.getMessage();
            err.println(name + ": " + oneLine(message) + " (" + f.code() + ")");
            code = ExitCodes.of(f.code());
        } else {
            err.println(name + ": internal error: " + oneLine(String.valueOf(e))
                    + " (set HOLDFAST_DEBUG=1 for the stack trace)");
            code = ExitCodes.SOFTWARE;
        }
        if (debug(env)) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /**
     * The exception's message, followed by the deepest cause in its chain that has a message (gRPC's status
     * exceptions aside: they repeat what the message says), unless the message already says it: a store's
     * "timed out after 10000 ms" then also shows the driver's "Connection refused" underneath.
     */
    static String withRootCause(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return io.holdfast.internal.Causes.append(
                message,
                io.holdfast.internal.Causes.deepest(
                        e.getCause(), c -> c.getClass().getName().startsWith("io.grpc.Status")));
    }

    private static boolean debug(Map<String, String> env) {
        String value = env.get("HOLDFAST_DEBUG");
        return "1".equals(value) || "true".equalsIgnoreCase(value);
    }

    static String oneLine(String s) {
        return io.holdfast.internal.Causes.oneLine(s);
    }

    /** Commands that read the environment get it from {@link Main}, so that tests can substitute it. */
    interface NeedsEnvironment {
        void environment(Map<String, String> env);
    }

    /** {@code --version}: the build's version (from the jar manifest) and the JVM it runs on. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "holdfast " + (v == null ? "(development build)" : v),
                "JVM: ${java.version} (${java.vendor} ${java.vm.name} ${java.vm.version})"
            };
        }
    }
}
