package io.holdfast.verify.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * The wall clocks of a run's processes, each shifted at will: every node and client JVM is started
 * with libfaketime preloaded ({@code LD_PRELOAD}), reading its offset from a file of its own that
 * {@link #shift} rewrites. Only the wall clock moves ({@code CLOCK_REALTIME}: {@code
 * System.currentTimeMillis}, {@code Instant.now}); the monotonic clock that leases, TTLs and the
 * cluster's time are counted on is left alone ({@code FAKETIME_DONT_FAKE_MONOTONIC}), as an NTP step
 * or an operator's {@code date -s} leaves it. A jump of the wall clock must therefore change nothing
 * a client can observe of its locks; a scenario that jumps clocks turns red if it does.
 *
 * <p>Guarantees: a process sees a new offset within {@link #REREAD_SECONDS} s of {@link #shift}
 * (libfaketime re-reads the file that often); a process started later starts at its file's offset.
 * Not guaranteed: that every library of the JVM reads the wall clock through the calls libfaketime
 * wraps (the JDK's do: {@code clock_gettime}).
 *
 * <p>Failure story: libfaketime is not installed; the run stops before it starts a process, in one
 * line that says to install it ({@code apt-get install libfaketime}), instead of running a scenario
 * whose clock jumps would do nothing.
 */
final class WallClocks {
    /** How often a process re-reads its offset file. */
    static final int REREAD_SECONDS = 1;

    /** Where Debian's package puts the library (the thread-safe build), and an override. */
    private static final List<String> LIBRARIES = List.of(
            "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
            "/usr/lib/faketime/libfaketimeMT.so.1");

    private final Path library;
    private final Path dir;

    private WallClocks(Path library, Path dir) {
        this.library = library;
        this.dir = dir;
    }

    /**
     * @param dir where the offset files live (the run's directory)
     * @throws IOException when libfaketime is not installed, in one line saying so
     */
    static WallClocks in(Path dir) throws IOException {
        String override = System.getenv("HOLDFAST_LIBFAKETIME");
        for (String candidate : override != null ? List.of(override) : LIBRARIES) {
            Path p = Path.of(candidate);
            if (Files.isReadable(p)) {
                Files.createDirectories(dir);
                return new WallClocks(p, dir);
            }
        }
        throw new IOException("this scenario jumps the processes' wall clocks with libfaketime, which is not installed"
                + " (looked for " + String.join(", ", override != null ? List.of(override) : LIBRARIES)
                + "): apt-get install libfaketime, or set HOLDFAST_LIBFAKETIME to the library");
    }

    /** The environment that starts {@code process} with its own shiftable wall clock (at its offset). */
    Map<String, String> environment(String process) throws IOException {
        Path file = file(process);
        if (!Files.exists(file)) {
            write(file, 0);
        }
        // FAKETIME_FORCE_MONOTONIC_FIX=0: with libfaketime 0.9.10's default, every timed wait of a
        // JVM thread (pthread_cond_timedwait) took about 22 ms and Thread.sleep(1) 10 ms (2,000
        // hand-offs between two threads: 45 s against 69 ms), and the nodes could not start within
        // 90 s; with it off they run at native speed and the wall clock still moves.
        return Map.of(
                "LD_PRELOAD", library.toString(),
                "FAKETIME_TIMESTAMP_FILE", file.toString(),
                "FAKETIME_CACHE_DURATION", Integer.toString(REREAD_SECONDS),
                "FAKETIME_DONT_FAKE_MONOTONIC", "1",
                "FAKETIME_FORCE_MONOTONIC_FIX", "0",
                "FAKETIME_DONT_RESET", "1",
                "FAKETIME_DISABLE_SHM", "1");
    }

    /** Moves {@code process}'s wall clock to {@code seconds} from the real one (negative: behind). */
    void shift(String process, long seconds) throws IOException {
        write(file(process), seconds);
    }

    private Path file(String process) {
        return dir.resolve(process + ".faketime");
    }

    /** libfaketime's relative form: {@code +3600} or {@code -60} seconds. */
    static String offset(long seconds) {
        return (seconds >= 0 ? "+" : "") + seconds;
    }

    private static void write(Path file, long seconds) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, offset(seconds) + System.lineSeparator());
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
