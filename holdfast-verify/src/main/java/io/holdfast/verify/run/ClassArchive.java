package io.holdfast.verify.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The class-data archive of one {@link Child} JVM, and the directory the children share them in.
 *
 * <p>A run starts ten JVMs or so, and a restart fault starts more; on two cores most of a start is
 * loading and verifying the same few thousand classes (gRPC, Netty, Ratis). When {@link
 * #useDirectory(Path)} names a directory, children share an AppCDS archive per kind (main class
 * and JVM options): the first child of a kind writes one when it exits cleanly ({@code
 * -XX:ArchiveClassesAtExit}), later ones map it ({@code -XX:SharedArchiveFile}). The archive's name
 * carries the JDK and the class path's files (size, time), so a rebuilt jar or another JDK never
 * uses a stale one; a child killed while writing one leaves none ({@link #settle}). What the
 * children run is the same either way: an archive only saves the class loading.
 *
 * <p>So each child maps the archive of its kind, or writes it (one writer per kind at a time), or
 * neither (archives off, a class path with anything but jar files, or another child writing its
 * kind now); {@link #options()} are the JVM options that say which.
 */
final class ClassArchive {
    /** The archive kinds some child is writing now (one writer per kind). */
    private static final Set<String> WRITING = ConcurrentHashMap.newKeySet();

    private static volatile Path archiveDir;

    private final List<String> options;

    /** The archive this child writes at exit (a temporary name, and the name it then gets), or null. */
    private final Path written;

    private final Path target;
    private final String kind;
    private boolean settled;

    private ClassArchive(List<String> options, String kind, Path written, Path target) {
        this.options = List.copyOf(options);
        this.kind = kind;
        this.written = written;
        this.target = target;
    }

    /** Children started from now on share class archives in {@code dir}; null: none. */
    static void useDirectory(Path dir) {
        archiveDir = dir;
    }

    /**
     * What a child of this main class, JVM options and class path does: map its kind's archive,
     * write it (this child is then its kind's one writer until {@link #settle} or {@link
     * #abandon}), or neither.
     *
     * @throws IOException if the directory for an archive to write cannot be made
     */
    static ClassArchive forChild(List<String> jvmArgs, String mainClass, String classPath) throws IOException {
        List<String> options = new ArrayList<>();
        String kind = kind(jvmArgs, mainClass, classPath);
        Path written = null;
        Path target = null;
        if (kind != null) {
            target = archiveDir.resolve(kind + ".jsa");
            if (Files.isRegularFile(target)) {
                options.add("-XX:SharedArchiveFile=" + target);
            } else if (WRITING.add(kind)) {
                Files.createDirectories(archiveDir);
                written = archiveDir.resolve(
                        kind + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
                options.add("-XX:ArchiveClassesAtExit=" + written);
            } else {
                kind = null; // another child of this kind is writing it: start without
                target = null;
            }
            // the JVM's own warnings (an archive it cannot use, say) go to the log, not the protocol
            options.add("-Xlog:disable");
            options.add("-Xlog:all=warning:stderr");
        }
        return new ClassArchive(options, written == null ? null : kind, written, target);
    }

    /** The JVM options for the child, before its class path. */
    List<String> options() {
        return options;
    }

    /** Whether the child writes an archive at its exit (it needs longer to stop). */
    boolean writes() {
        return written != null;
    }

    /** The child did not start: another child of its kind may write the archive. */
    void abandon() {
        if (written != null) {
            WRITING.remove(kind);
        }
    }

    /**
     * Once the child is gone: the archive it wrote at a clean exit takes its name; one that a
     * SIGKILL or a crash may have cut short is deleted, and the next child of its kind writes it
     * again. Nothing while {@code process} is alive, or after the first time.
     *
     * @param killed whether the harness SIGKILLed the child
     */
    synchronized void settle(Process process, boolean killed) {
        if (written == null || settled || process.isAlive()) {
            return;
        }
        settled = true;
        try {
            // exit codes above 128 are signals: 143 is the SIGTERM the JVM shut down on (it writes
            // the archive on that way out); any other (SIGKILL, a crash) may have cut it short
            int code = process.exitValue();
            boolean clean = !killed && (code < 128 || code == 143);
            if (clean && Files.isRegularFile(written) && Files.size(written) > 0) {
                Files.move(written, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(written);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(written);
            } catch (IOException ignored) {
                // a stray temporary file; never used
            }
        } finally {
            WRITING.remove(kind);
        }
    }

    /**
     * The archive name for this kind of child, or null when archives are off or the class path has
     * anything but jar files (the JVM archives classes from jars only): the main class, a digest of
     * the JDK, the options that shape the archive (not the -D properties) and every jar's path, size
     * and time.
     */
    private static String kind(List<String> jvmArgs, String mainClass, String classPath) {
        Path dir = archiveDir;
        if (dir == null || classPath == null || classPath.isEmpty()) {
            return null;
        }
        StringBuilder key = new StringBuilder()
                .append(System.getProperty("java.home"))
                .append('|')
                .append(System.getProperty("java.vm.version"));
        for (String a : jvmArgs) {
            if (!a.startsWith("-D")) {
                key.append('|').append(a);
            }
        }
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            try {
                if (!entry.endsWith(".jar") || !Files.isRegularFile(jar)) {
                    return null;
                }
                key.append('|')
                        .append(jar.toAbsolutePath())
                        .append(':')
                        .append(Files.size(jar))
                        .append(':')
                        .append(Files.getLastModifiedTime(jar).toMillis());
            } catch (IOException e) {
                return null;
            }
        }
        try {
            byte[] digest =
                    MessageDigest.getInstance("SHA-256").digest(key.toString().getBytes(StandardCharsets.UTF_8));
            return mainClass.substring(mainClass.lastIndexOf('.') + 1) + "-"
                    + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            return null;
        }
    }
}
