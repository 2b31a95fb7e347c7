package io.holdfast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FreePortsTest {
    /** Run in a child JVM: draws a port, says which, and keeps it until killed. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            System.out.println(FreePorts.next());
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    @Test
    void aPortAnotherJvmDrewIsRefusedThoughNothingListensOnIt() throws Exception {
        Process child = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        Holder.class.getName())
                .redirectErrorStream(true)
                .start();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            int taken = Integer.parseInt(out.readLine().trim());
            assertThat(FreePorts.take(taken)).as("the port the child JVM drew").isFalse();
            int mine = FreePorts.next();
            assertThat(mine).isNotEqualTo(taken);
            assertThat(FreePorts.take(mine))
                    .as("a port handed out in this JVM already")
                    .isFalse();
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
