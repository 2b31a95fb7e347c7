package io.holdfast.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pods of deploy/kubernetes, rendered and run on this machine, form a cluster and survive a
 * rolling restart with no grant lost; with {@code -Dholdfast.kubernetes.grow=true} they also grow
 * from three to five as docs/kubernetes.md says: {@link RollingRestartRun}, in a network and mount namespace
 * of its own ({@code unshare -n -m}; its pods in namespaces of their own below it, on the bridge
 * {@code kube0}, 10.244.0.0/24: nothing on this machine's network). Needs root, {@code unshare},
 * {@code nsenter}, {@code setpriv}, {@code ip} and overlayfs; a minute or two, so it runs only when
 * asked for: in CI ({@code HOLDFAST_KUBERNETES=true}, .ci/run), or on its own:
 *
 * <pre>
 * ./mvnw -B -o -q -pl holdfast-it -am verify -Dtest=KubernetesRollingRestartTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dholdfast.kubernetes=true
 * </pre>
 */
@EnabledIf("asked")
class KubernetesRollingRestartTest {
    /** Asked for by {@code -Dholdfast.kubernetes=true}, or by CI's {@code HOLDFAST_KUBERNETES=true}. */
    static boolean asked() {
        return Boolean.getBoolean("holdfast.kubernetes") || "true".equals(System.getenv("HOLDFAST_KUBERNETES"));
    }

    @Test
    void renderedPodsFormAClusterAndSurviveARollingRestart(@TempDir Path work) throws Exception {
        Path hosts = Files.createFile(work.resolve("hosts"));
        Path output = work.resolve("run.log");
        Process run = Kubelet.inNamespaces(
                        "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
                        hosts.toString(),
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-cp",
                        System.getProperty("java.class.path"),
                        RollingRestartRun.class.getName(),
                        System.getProperty("holdfast.kubernetes.manifests"),
                        System.getProperty("holdfast.jar"),
                        work.toString(),
                        hosts.toString(),
                        Boolean.getBoolean("holdfast.kubernetes.grow") ? "grow" : "")
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        boolean ended = run.waitFor(12, TimeUnit.MINUTES);
        if (!ended) {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly().waitFor();
        }
        String out = Files.readString(output, StandardCharsets.UTF_8);
        System.out.println(out);
        assertThat(ended).as("the run ended within 12 minutes:%n%s", out).isTrue();
        assertThat(run.exitValue()).as(out).isZero();
        assertThat(out).contains("OK");
    }
}
