package io.holdfast.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What deploy/kubernetes promises, read from its manifests as Kubernetes renders them: a pod's
 * member id and peers, its probes, its grace, the Services, the disruption budget, and settings
 * that `holdfast server` knows (a misspelt HOLDFAST_* variable would be ignored). Fast; the pods
 * run for real in {@link KubernetesRollingRestartTest}.
 */
class ManifestsTest {
    static final Path DIR = Path.of(System.getProperty("holdfast.kubernetes.manifests"));

    static Manifests manifests;
    static RenderedPod pod;

    @BeforeAll
    static void render(@TempDir Path tmp) throws Exception {
        // Secrets with the keys make-secrets.sh writes; their content does not matter here.
        Path secrets = Files.writeString(tmp.resolve("secrets.yaml"), """
                apiVersion: v1
                kind: Secret
                metadata: {name: holdfast-tls}
                type: kubernetes.io/tls
                stringData: {ca.crt: x, tls.crt: x, tls.key: x}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: holdfast-token}
                stringData: {token.secret: x}
                """);
        manifests = Manifests.read(DIR, secrets);
        pod = manifests.pod("holdfast", 1, "shop", "10.0.0.7", RollingRestartRun.IMAGE);
    }

    @Test
    void thePodsOrdinalIsItsMemberIdAndItsPeersAreTheStatefulSetsPodsInItsNamespace() {
        assertThat(pod.command())
                .containsExactly("/opt/java/bin/java", "-jar", "/opt/holdfast/lib/holdfast.jar", "server");
        assertThat(pod.env()).containsEntry("HOLDFAST_ID", "holdfast-1");
        assertThat(pod.env().get("HOLDFAST_PEERS"))
                .isEqualTo("holdfast-0=holdfast-0.holdfast-peers.shop.svc.cluster.local:4654,"
                        + "holdfast-1=holdfast-1.holdfast-peers.shop.svc.cluster.local:4654,"
                        + "holdfast-2=holdfast-2.holdfast-peers.shop.svc.cluster.local:4654");
        assertThat(pod.env().values()).noneMatch(v -> v.contains("$("));
        assertThat(pod.env().keySet())
                .as("no service links")
                .noneMatch(k -> k.contains("_SERVICE_") || k.contains("_PORT_"));
        assertThat(pod.runAsUser()).isEqualTo(10001);
    }

    @Test
    void probesGraceAndDisruptionBudget() {
        assertThat(pod.readiness()).isEqualTo(new RenderedPod.Probe("/ready", 4655, "HTTPS", 2, 2));
        assertThat(pod.liveness().path()).isEqualTo("/health");
        assertThat(pod.startup().path()).isEqualTo("/health");
        assertThat(pod.graceSeconds()).isGreaterThanOrEqualTo(10);
        Map<String, Object> budget =
                Manifests.map(manifests.get("PodDisruptionBudget", "holdfast").get("spec"), "spec");
        assertThat(budget.get("maxUnavailable")).isEqualTo(1);
        assertThat(budget.get("selector"))
                .isEqualTo(Map.of("matchLabels", Map.of("app.kubernetes.io/name", "holdfast")));
    }

    @Test
    void peersServiceIsHeadlessAndPublishesPodsBeforeTheyAreReady() {
        Map<String, Object> set =
                Manifests.map(manifests.get("StatefulSet", "holdfast").get("spec"), "spec");
        Map<String, Object> peers =
                Manifests.map(manifests.get("Service", "holdfast-peers").get("spec"), "spec");
        assertThat(set.get("serviceName")).isEqualTo("holdfast-peers");
        assertThat(set.get("podManagementPolicy")).isEqualTo("Parallel");
        assertThat(peers.get("clusterIP")).isEqualTo("None");
        assertThat(peers.get("publishNotReadyAddresses")).isEqualTo(true);
        Map<String, Object> clients =
                Manifests.map(manifests.get("Service", "holdfast").get("spec"), "spec");
        assertThat(clients).doesNotContainKey("clusterIP");
        assertThat(Manifests.list(clients.get("ports")))
                .anyMatch(p -> Manifests.map(p, "port").get("port").equals(4653));
    }

    /**
     * The StatefulSet runs the image of the release this tree becomes: release/stage.sh builds and
     * signs {@code ghcr.io/holdfast-io/holdfast:X.Y.Z} for the version X.Y.Z-SNAPSHOT of the POMs
     * (docs/releasing.md), and refuses to stage while the manifest names another.
     */
    @Test
    void theImageIsTheReleasedTagOfThisVersion() {
        String version = System.getProperty("holdfast.version").replaceFirst("-SNAPSHOT$", "");
        Map<String, Object> set =
                Manifests.map(manifests.get("StatefulSet", "holdfast").get("spec"), "spec");
        Map<String, Object> template = Manifests.map(set.get("template"), "template");
        Map<String, Object> podSpec = Manifests.map(template.get("spec"), "pod spec");
        java.util.List<String> images = Manifests.list(podSpec.get("containers")).stream()
                .map(c -> String.valueOf(Manifests.map(c, "container").get("image")))
                .toList();
        assertThat(images).containsExactly("ghcr.io/holdfast-io/holdfast:" + version);
    }

    @Test
    void everySettingIsAnOptionOfHoldfastServer() throws Exception {
        Process help = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        System.getProperty("holdfast.jar"),
                        "server",
                        "--help")
                .redirectErrorStream(true)
                .start();
        String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(help.waitFor()).as(text).isZero();
        Properties file = configFile();
        for (String key : file.stringPropertyNames()) {
            assertThat(text).as("the file's %s", key).containsPattern(Pattern.quote("--" + key) + "[=\\s,]");
        }
        for (String variable : pod.env().keySet()) {
            if (variable.startsWith("HOLDFAST_") && !variable.equals("HOLDFAST_CONFIG")) {
                String option = "--"
                        + variable.substring("HOLDFAST_".length())
                                .toLowerCase(java.util.Locale.ROOT)
                                .replace('_', '-');
                assertThat(text).as("%s", variable).containsPattern(Pattern.quote(option) + "[=\\s,]");
            }
        }
        assertThat(pod.env().get("HOLDFAST_CONFIG")).isEqualTo("/etc/holdfast/conf/holdfast.properties");
        assertThat(pod.mounts())
                .anyMatch(
                        m -> m.path().equals("/etc/holdfast/conf") && m.files().containsKey("holdfast.properties"));
    }

    @Test
    void theTlsSecretIsAKubernetesTlsSecretMountedUnderTheNamesTheNodeReads() throws Exception {
        // ca.crt, tls.crt, tls.key: what make-secrets.sh and cert-manager write (options/cert-manager.yaml).
        assertThat(pod.mounts())
                .filteredOn(m -> m.path().equals("/etc/holdfast/tls"))
                .singleElement()
                .satisfies(m -> assertThat(m.files()).containsOnlyKeys("ca.pem", "node.pem", "node-key.pem"));
        Properties file = configFile();
        assertThat(file)
                .containsEntry("tls-ca", "/etc/holdfast/tls/ca.pem")
                .containsEntry("tls-cert", "/etc/holdfast/tls/node.pem")
                .containsEntry("tls-key", "/etc/holdfast/tls/node-key.pem");
    }

    /** The pod's holdfast.properties, from its ConfigMap as mounted. */
    private static Properties configFile() throws java.io.IOException {
        Properties file = new Properties();
        file.load(new StringReader(new String(
                pod.mounts().stream()
                        .filter(m -> m.files().containsKey("holdfast.properties"))
                        .findFirst()
                        .orElseThrow()
                        .files()
                        .get("holdfast.properties"),
                StandardCharsets.UTF_8)));
        return file;
    }

    @Test
    void expandsReferencesAsKubernetesDoes() {
        Map<String, String> env = Map.of("A", "1", "B", "$(A)");
        assertThat(Manifests.expand("x$(A)y$(B)z$$(A)$(C)$", env)).isEqualTo("x1y$(A)z$(A)$(C)$");
    }
}
