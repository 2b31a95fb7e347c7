package io.holdfast.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * An AppCDS archive shared by processes of one kind on the CLI jar. Most of such a process's start
 * is loading and verifying the same classes from an 85 MB jar (picocli, gRPC, Netty): a {@code
 * holdfast lock} run against a cluster took 1.75 s (1.8 s of CPU) without an archive and 1.1 s (1.05
 * s of CPU) with one, on this 2-core machine.
 *
 * <p>The first process of a kind writes the archive when it exits ({@code -XX:ArchiveClassesAtExit},
 * to a temporary name, kept only after exit code 0); while it runs, others start without one; later
 * ones map it ({@code -XX:SharedArchiveFile}). The name carries the JVM's version and the jar's size
 * and time, so a rebuilt jar or another JDK writes its own. What the processes run is the same
 * either way; JVM warnings about an archive go to the process's stderr.
 */
final class ClassArchive {
    /** What to start the next process with; give it back to {@link #exited} with the exit code. */
    record Start(List<String> jvmOptions, Path writes) {}

    private final Path archive;
    private Path writing; // the temporary file a running process writes, or null

    ClassArchive(Path dir, String kind, Path jar) throws IOException {
        String key = System.getProperty("java.home") + "|" + System.getProperty("java.vm.version") + "|"
                + jar.toAbsolutePath() + "|" + Files.size(jar) + "|"
                + Files.getLastModifiedTime(jar).toMillis();
        this.archive = dir.resolve(kind + "-" + Integer.toHexString(key.hashCode()) + ".jsa");
    }

    synchronized Start next() throws IOException {
        List<String> quiet = List.of("-Xlog:disable", "-Xlog:all=warning:stderr");
        if (Files.isRegularFile(archive)) {
            return new Start(concat("-XX:SharedArchiveFile=" + archive, quiet), null);
        }
        if (writing != null) {
            return new Start(List.of(), null); // another process is writing it
        }
        Files.createDirectories(archive.getParent());
        writing = archive.resolveSibling(
                archive.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        return new Start(concat("-XX:ArchiveClassesAtExit=" + writing, quiet), writing);
    }

    /** Keeps the archive a process wrote if it exited with 0; else the next process writes it. */
    synchronized void exited(Start start, int exitCode) {
        if (start.writes() == null) {
            return;
        }
        try {
            if (exitCode == 0 && Files.isRegularFile(start.writes()) && Files.size(start.writes()) > 0) {
                Files.move(
                        start.writes(), archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(start.writes());
            }
        } catch (IOException e) {
            start.writes().toFile().delete(); // never used; the next process writes it again
        } finally {
            writing = null;
        }
    }

    private static List<String> concat(String first, List<String> rest) {
        List<String> all = new java.util.ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
