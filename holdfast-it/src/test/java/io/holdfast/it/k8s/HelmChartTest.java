package io.holdfast.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/helm/holdfast, linted and rendered by Helm itself (helm-java: Helm's Go code as a native
 * library). The chart's default render is deploy/kubernetes's manifests, object for object, so that
 * what {@link KubernetesRollingRestartTest} runs is what the chart installs; each option renders
 * its file of deploy/kubernetes/options; every render passes the restricted Pod Security Standard;
 * and values the schema refuses fail with the value named.
 *
 * <p>Objects are compared after the labels and annotations only a chart adds are taken out ({@link
 * #HELM_ONLY}): the instance, version, manager and chart labels, and the config checksum that rolls
 * the members when the ConfigMap changes.
 */
class HelmChartTest {
    static final Path CHART = Path.of(System.getProperty("holdfast.helm.chart"));

    /** Keys a chart adds to labels, selectors and annotations that the plain manifests do not have. */
    private static final Set<String> HELM_ONLY = Set.of(
            "app.kubernetes.io/instance",
            "app.kubernetes.io/version",
            "app.kubernetes.io/managed-by",
            "helm.sh/chart",
            "checksum/config");

    @Test
    void helmLintsTheChartStrictlyWithoutAComplaint() {
        LintResult lint = new Helm(CHART).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
        assertThat(lint.getMessages())
                .as("lint's messages")
                .noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    void theDefaultRenderIsTheManifestsObjectForObject() throws IOException {
        Map<String, Map<String, Object>> rendered = byKindAndName(render());
        Map<String, Map<String, Object>> manifests = new LinkedHashMap<>();
        for (String f : List.of("config.yaml", "services.yaml", "pdb.yaml", "statefulset.yaml")) {
            manifests.putAll(byKindAndName(load(ManifestsTest.DIR.resolve(f))));
        }
        assertThat(rendered.keySet()).containsExactlyInAnyOrderElementsOf(manifests.keySet());
        manifests.forEach(
                (key, manifest) -> assertThat(rendered.get(key)).as(key).isEqualTo(manifest));
    }

    @Test
    void eachOptionRendersItsManifest() throws IOException {
        Path options = ManifestsTest.DIR.resolve("options");

        Map<String, Map<String, Object>> policy = byKindAndName(render("networkPolicy.enabled", true));
        assertThat(policy.get("NetworkPolicy/holdfast"))
                .isEqualTo(byKindAndName(load(options.resolve("networkpolicy.yaml")))
                        .get("NetworkPolicy/holdfast"));
        assertThat(byKindAndName(render())).doesNotContainKey("NetworkPolicy/holdfast");

        Map<String, Map<String, Object>> certs = byKindAndName(render("certManager.enabled", true));
        Map<String, Map<String, Object>> certManifests = byKindAndName(load(options.resolve("cert-manager.yaml")));
        assertThat(certManifests).hasSize(4);
        certManifests.forEach(
                (key, manifest) -> assertThat(certs.get(key)).as(key).isEqualTo(manifest));

        // zone-spread.yaml is a patch of the StatefulSet's pod spec: the manifest with it applied
        Map<String, Object> patch =
                podSpec(load(options.resolve("zone-spread.yaml")).get(0));
        Map<String, Object> spread = byKindAndName(load(ManifestsTest.DIR.resolve("statefulset.yaml")))
                .get("StatefulSet/holdfast");
        podSpec(spread).putAll(patch);
        assertThat(byKindAndName(render("zoneSpread.enabled", true)).get("StatefulSet/holdfast"))
                .isEqualTo(spread);
    }

    @Test
    void fiveMembersArePeersOfEachOtherAndNamedInTheCertificate() {
        Map<String, Map<String, Object>> five =
                byKindAndName(render("replicas", 5, "certManager.enabled", true, "image.tag", "9.9.9"));
        Map<String, Object> set = five.get("StatefulSet/holdfast");
        assertThat(Manifests.map(set.get("spec"), "spec").get("replicas")).isEqualTo(5);
        Map<String, Object> container =
                Manifests.map(Manifests.list(podSpec(set).get("containers")).get(0), "c");
        assertThat(container.get("image")).isEqualTo("ghcr.io/holdfast-io/holdfast:9.9.9");
        String peers = Manifests.list(container.get("env")).stream()
                .map(e -> Manifests.map(e, "env"))
                .filter(e -> "HOLDFAST_PEERS".equals(e.get("name")))
                .map(e -> String.valueOf(e.get("value")))
                .findFirst()
                .orElseThrow();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            expected.add(
                    "holdfast-" + i + "=holdfast-" + i + ".holdfast-peers.$(POD_NAMESPACE).svc.cluster.local:4654");
        }
        assertThat(peers.split(",")).containsExactlyElementsOf(expected);
        assertThat(Manifests.list(
                        Manifests.map(five.get("Certificate/holdfast-node").get("spec"), "spec")
                                .get("dnsNames")))
                .contains("holdfast-4.holdfast-peers.holdfast.svc.cluster.local");
    }

    @Test
    void everyRenderPassesTheRestrictedProfile() {
        List<Object[]> variants = List.of(new Object[0], new Object[] {"replicas", 5}, new Object[] {
            "zoneSpread.enabled", true, "networkPolicy.enabled", true, "certManager.enabled", true, "replicas", 1
        });
        for (Object[] sets : variants) {
            Map<String, Object> set = byKindAndName(render(sets)).get("StatefulSet/holdfast");
            assertThat(PodSecurityStandard.restrictedViolations(podSpec(set), "StatefulSet/holdfast"))
                    .as("the restricted profile's violations with %s", List.of(sets))
                    .isEmpty();
        }
    }

    /** The chart is the release's: its version and appVersion, and so the image it runs by default. */
    @Test
    void theChartIsTheReleasesVersion() throws IOException {
        String version = System.getProperty("holdfast.version").replaceFirst("-SNAPSHOT$", "");
        Map<String, Object> chart = Manifests.map(
                new Yaml(new LoaderOptions()).load(Files.readString(CHART.resolve("Chart.yaml"))), "Chart.yaml");
        assertThat(chart.get("version")).hasToString(version);
        assertThat(chart.get("appVersion")).hasToString(version);
    }

    /** Values the schema refuses never render: Helm's error names the value. */
    @Test
    void badValuesAreRefusedNamingTheValue() {
        assertThatThrownBy(() -> render("replicas", 2)).hasMessageContaining("at '/replicas'");
        assertThatThrownBy(() -> render("replica", 3)).hasMessageContaining("'replica'");
        assertThatThrownBy(() -> render("storage.size", "lots")).hasMessageContaining("at '/storage/size': 'lots'");
        assertThatThrownBy(() -> render("terminationGracePeriodSeconds", 1))
                .hasMessageContaining("at '/terminationGracePeriodSeconds'");
    }

    /** The chart rendered as release "holdfast" in namespace "holdfast", with {@code key, value} pairs set. */
    private static List<Map<String, Object>> render(Object... sets) {
        TemplateCommand template =
                new Helm(CHART).template().withName("holdfast").withNamespace("holdfast");
        for (int i = 0; i < sets.length; i += 2) {
            template.set((String) sets[i], sets[i + 1]);
        }
        return parse(template.call());
    }

    private static List<Map<String, Object>> load(Path file) throws IOException {
        return parse(Files.readString(file));
    }

    private static List<Map<String, Object>> parse(String yaml) {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object o : new Yaml(new LoaderOptions()).loadAll(yaml)) {
            if (o != null) {
                docs.add(Manifests.map(o, "document"));
            }
        }
        return docs;
    }

    /** Documents by "Kind/name", with what only a chart adds taken out. */
    private static Map<String, Map<String, Object>> byKindAndName(List<Map<String, Object>> docs) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Map<String, Object> d : docs) {
            strip(d);
            String name =
                    String.valueOf(Manifests.map(d.get("metadata"), "metadata").get("name"));
            out.put(d.get("kind") + "/" + name, d);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void strip(Object node) {
        if (node instanceof Map<?, ?> m) {
            Map<String, Object> map = (Map<String, Object>) m;
            map.keySet().removeAll(HELM_ONLY);
            map.values().forEach(HelmChartTest::strip);
            if (map.get("annotations") instanceof Map<?, ?> a && a.isEmpty()) {
                map.remove("annotations");
            }
        } else if (node instanceof List<?> l) {
            l.forEach(HelmChartTest::strip);
        }
    }

    private static Map<String, Object> podSpec(Map<String, Object> set) {
        Map<String, Object> spec = Manifests.map(set.get("spec"), "spec");
        return Manifests.map(Manifests.map(spec.get("template"), "template").get("spec"), "pod spec");
    }
}
