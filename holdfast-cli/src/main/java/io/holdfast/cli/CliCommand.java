package io.holdfast.cli;

import java.util.List;

/**
 * A {@code holdfast} subcommand that lives outside holdfast-cli and is found at run time: the benchmarks'
 * {@code holdfast bench} (holdfast-bench) and the coupons example's {@code holdfast demo coupons}. They belong
 * to the repository's lab, not to the product: the repository's launcher ({@code ./holdfast}) puts their jars on
 * the class path, the distribution does not, and its {@code holdfast} then answers such a command with one line
 * saying that it runs from a repository checkout.
 *
 * <p>An implementation is a picocli {@code @Command} class with a public no-argument constructor, named in
 * {@code META-INF/services/io.holdfast.cli.CliCommand} of its jar. {@link Main} loads every one on the class
 * path with {@link java.util.ServiceLoader}, a fresh instance per command line, and adds it under
 * {@link #parent()} before it parses anything. Output goes through picocli's {@code spec.commandLine().getOut()}
 * and {@code getErr()}; an expected failure is a {@link CliFailure} (one line, its exit code), as for the built-in
 * commands; the {@link BackendOption} mixin reads {@code --backend} and {@code $HOLDFAST_BACKEND} as they do.
 *
 * <p>Not guaranteed: an order among commands found this way, or anything about a command whose name is taken
 * already. Failure story: a jar on the class path names a class that is missing or cannot be made (a jar built
 * against another CLI); the command line then cannot be built, and {@code holdfast} prints one line naming the
 * class and exits {@link ExitCodes#SOFTWARE}, whatever command was asked for.
 */
public interface CliCommand {
    /**
     * The command this one goes under, by the names below {@code holdfast}: empty (the default) for a top-level
     * command, {@code List.of("demo")} for {@code holdfast demo coupons}. A name that is no command is an error
     * when the command line is built.
     */
    default List<String> parent() {
        return List.of();
    }
}
