package io.holdfast.ports;

import java.io.IOException;
import java.nio.file.Path;

/** A second JVM of this machine for the tests: another test JVM or verifier run holding its ports. */
final class ChildJvm {
    private ChildJvm() {}

    /**
     * Starts {@code main}'s {@code main(args)} in a JVM of its own on this test's class path; its
     * standard error goes to the test's, its standard output and input are the caller's to read
     * and close.
     */
    static Process start(Class<?> main, String... args) throws IOException {
        String[] command = new String[4 + args.length];
        command[0] = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command[1] = "-cp";
        command[2] = System.getProperty("java.class.path");
        command[3] = main.getName();
        System.arraycopy(args, 0, command, 4, args.length);
        return new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }
}
