package cpubyclass;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * A JUnit Platform listener that appends one line per test class to the file named by the system
 * property {@code cpubyclass.out}: the module's directory, the class, its wall seconds, the CPU
 * seconds of the test JVM itself and those of the child processes it waited for (servers, CLIs,
 * drivers it started and reaped), from /proc/self/stat. A class that runs beside another in the
 * same JVM shares its own-CPU figure with it; children still running at the class's end count for
 * no class. Linux only; elsewhere it writes nothing. See run.sh.
 */
public final class CpuByClass implements TestExecutionListener {
    private final Map<String, long[]> started = new ConcurrentHashMap<>();

    private static long[] now() {
        try {
            String s = Files.readString(Path.of("/proc/self/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // utime, stime, cutime, cstime: the 14th to 17th fields of the line, in clock ticks
            return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12]),
                Long.parseLong(f[13]) + Long.parseLong(f[14]), System.nanoTime()};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean aClass(TestIdentifier id) {
        return id.getSource().filter(s -> s instanceof ClassSource).isPresent();
    }

    @Override
    public void executionStarted(TestIdentifier id) {
        long[] t = aClass(id) ? now() : null;
        if (t != null) {
            started.put(id.getUniqueId(), t);
        }
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
        long[] a = started.remove(id.getUniqueId());
        long[] b = a == null ? null : now();
        String out = System.getProperty("cpubyclass.out");
        if (b == null || out == null) {
            return;
        }
        String line = String.format(
                "%s\t%s\t%.1f\t%.2f\t%.2f%n",
                System.getProperty("user.dir"),
                ((ClassSource) id.getSource().get()).getClassName(),
                (b[2] - a[2]) / 1e9,
                (b[0] - a[0]) / 100.0,
                (b[1] - a[1]) / 100.0);
        try {
            Files.writeString(Path.of(out), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // a measurement, never a reason for a test to fail
        }
    }
}
