package io.holdfast.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** In a fresh JVM that sees 2 CPUs: the common pool's parallelism with and without {@link ServerJvm#prepare()}. */
class ServerJvmTest {

    /** Prints the common pool's parallelism, after {@code prepare()} if asked. */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("prepare")) {
            ServerJvm.prepare();
        }
        System.out.println(ForkJoinPool.getCommonPoolParallelism());
    }

    @Test
    void twoCpusGetAPoolOfTwoInsteadOfAThreadPerTask() throws Exception {
        assertThat(parallelism(List.of())).as("the JVM's own default on 2 CPUs").isEqualTo(1);
        assertThat(parallelism(List.of("prepare"))).isEqualTo(2);
    }

    @Test
    void theHttpPortGetsTcpNoDelay() {
        ServerJvm.prepare();
        assertThat(System.getProperty(ServerJvm.HTTP_NODELAY)).isEqualTo("true");
    }

    /**
     * Netty's machine id is set for every Netty copy on the class path, so that none looks for a hardware
     * address (in a loopback-only network namespace each logged a WARN that it found none).
     */
    @Test
    void everyNettyGetsAMachineIdItAccepts() {
        ServerJvm.prepare();
        for (String property : ServerJvm.NETTY_MACHINE_IDS) {
            assertThat(System.getProperty(property)).as(property).matches("([0-9a-f]{2}:){7}[0-9a-f]{2}");
        }
        // Netty's own check of the value: it logs "(malformed)" and ignores an id it cannot parse.
        assertThat(org.apache.ratis.thirdparty.io.netty.util.internal.MacAddressUtil.parseMAC(
                        System.getProperty("org.apache.ratis.thirdparty.io.netty.machineId")))
                .hasSize(8);
    }

    @Test
    void aValueTheOperatorSetIsKept() throws Exception {
        assertThat(parallelism(List.of("-D" + ServerJvm.PARALLELISM + "=7"), List.of("prepare")))
                .isEqualTo(7);
    }

    private static int parallelism(List<String> args) throws IOException, InterruptedException {
        return parallelism(List.of(), args);
    }

    private static int parallelism(List<String> jvmOptions, List<String> args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:ActiveProcessorCount=2");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ServerJvmTest.class.getName());
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return Integer.parseInt(out.lines().reduce((a, b) -> b).orElseThrow());
    }
}
