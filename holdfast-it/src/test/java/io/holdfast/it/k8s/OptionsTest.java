package io.holdfast.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/kubernetes/options (docs/kubernetes.md, "Options"), read against the manifests they go
 * with: the NetworkPolicy selects the members and lets every port a member listens on through from
 * the members, and the client and HTTP ports from client namespaces, nothing else; the zone-spread
 * patch, merged into the StatefulSet as {@code kubectl patch} does, spreads the members' own pods
 * one per zone and keeps the restricted profile.
 */
class OptionsTest {
    private static final Path OPTIONS = ManifestsTest.DIR.resolve("options");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws IOException {
        return (Map<String, Object>) new Yaml(new LoaderOptions()).load(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    private static Map<String, Object> statefulSet() throws IOException {
        for (Object o : new Yaml(new LoaderOptions())
                .loadAll(Files.readString(ManifestsTest.DIR.resolve("statefulset.yaml")))) {
            if (o instanceof Map<?, ?> m && "StatefulSet".equals(m.get("kind"))) {
                return map(m);
            }
        }
        throw new IllegalStateException("no StatefulSet");
    }

    private static Map<String, Object> podLabels(Map<String, Object> set) {
        return map(
                map(map(map(set.get("spec")).get("template")).get("metadata")).get("labels"));
    }

    private static Set<Integer> ports(Object rulePorts) {
        Set<Integer> out = new TreeSet<>();
        list(rulePorts).forEach(p -> out.add(((Number) map(p).get("port")).intValue()));
        return out;
    }

    @Test
    void theNetworkPolicyLetsMembersReachEachOtherAndClientNamespacesTheirPortsOnly() throws IOException {
        Map<String, Object> policy = yaml(OPTIONS.resolve("networkpolicy.yaml"));
        Map<String, Object> set = statefulSet();
        Map<String, Object> spec = map(policy.get("spec"));
        assertThat(podLabels(set))
                .as("the pods the policy selects")
                .containsAllEntriesOf(map(map(spec.get("podSelector")).get("matchLabels")));
        assertThat(list(spec.get("policyTypes"))).containsExactly("Ingress");

        Set<Integer> containerPorts = new TreeSet<>();
        Map<String, Object> container = map(
                list(map(map(map(set.get("spec")).get("template")).get("spec")).get("containers"))
                        .get(0));
        list(container.get("ports"))
                .forEach(p -> containerPorts.add(((Number) map(p).get("containerPort")).intValue()));

        List<Object> rules = list(spec.get("ingress"));
        assertThat(rules).hasSize(2);
        Map<String, Object> members = map(rules.get(0));
        assertThat(map(map(list(members.get("from")).get(0)).get("podSelector")).get("matchLabels"))
                .isEqualTo(map(map(spec.get("podSelector")).get("matchLabels")));
        assertThat(ports(members.get("ports"))).as("what members reach").isEqualTo(containerPorts);
        Map<String, Object> clients = map(rules.get(1));
        assertThat(map(map(list(clients.get("from")).get(0)).get("namespaceSelector"))
                        .get("matchLabels"))
                .isEqualTo(Map.of("holdfast.io/client", "true"));
        assertThat(ports(clients.get("ports")))
                .as("what clients reach: not Raft")
                .containsExactly(4653, 4655);
    }

    /** {@code patch} merged into {@code target} as a strategic merge does for maps (lists here are new keys). */
    private static void merge(Map<String, Object> target, Map<String, Object> patch) {
        patch.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && target.get(k) instanceof Map<?, ?>) {
                merge(map(target.get(k)), map(m));
            } else {
                target.put(k, v);
            }
        });
    }

    @Test
    void theZoneSpreadPatchSpreadsTheMembersOnePerZoneAndKeepsTheRestrictedProfile() throws IOException {
        Map<String, Object> set = statefulSet();
        Map<String, Object> patch = yaml(OPTIONS.resolve("zone-spread.yaml"));
        Map<String, Object> before = new LinkedHashMap<>(
                map(map(map(set.get("spec")).get("template")).get("spec")));
        merge(set, patch);
        Map<String, Object> pod = map(map(map(set.get("spec")).get("template")).get("spec"));

        List<Object> constraints = list(pod.get("topologySpreadConstraints"));
        assertThat(constraints).hasSize(1);
        Map<String, Object> c = map(constraints.get(0));
        assertThat(c)
                .containsEntry("topologyKey", "topology.kubernetes.io/zone")
                .containsEntry("maxSkew", 1)
                .containsEntry("whenUnsatisfiable", "DoNotSchedule");
        assertThat(podLabels(set))
                .containsAllEntriesOf(map(map(c.get("labelSelector")).get("matchLabels")));
        List<String> changed = new ArrayList<>();
        pod.forEach((k, v) -> {
            if (!v.equals(before.get(k))) {
                changed.add(k);
            }
        });
        assertThat(changed).as("what the patch changes in the pod").containsExactly("topologySpreadConstraints");
        assertThat(PodSecurityStandard.restrictedViolations(pod, "patched")).isEmpty();
    }

    @Test
    void certManagerWritesTheTlsSecretTheMembersMountWithTheNamesMakeSecretsGives() throws IOException {
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        for (Object o : new Yaml(new LoaderOptions()).loadAll(Files.readString(OPTIONS.resolve("cert-manager.yaml")))) {
            Map<String, Object> doc = map(o);
            byName.put(doc.get("kind") + "/" + map(doc.get("metadata")).get("name"), doc);
        }
        Map<String, Object> node = map(byName.get("Certificate/holdfast-node").get("spec"));
        Map<String, Object> set = statefulSet();
        Map<String, Object> tlsVolume =
                list(map(map(map(set.get("spec")).get("template")).get("spec")).get("volumes")).stream()
                        .map(OptionsTest::map)
                        .filter(v -> "tls".equals(v.get("name")))
                        .findFirst()
                        .orElseThrow();
        Map<String, Object> secret = map(tlsVolume.get("secret"));
        assertThat(node.get("secretName")).isEqualTo(secret.get("secretName"));
        List<Object> keys = new ArrayList<>();
        list(secret.get("items")).forEach(i -> keys.add(map(i).get("key")));
        assertThat(keys)
                .as("what the pods mount: what cert-manager writes")
                .containsExactlyInAnyOrder("ca.crt", "tls.crt", "tls.key");
        assertThat(map(node.get("privateKey"))).containsEntry("encoding", "PKCS8");
        assertThat(list(node.get("usages"))).contains("server auth", "client auth");
        List<Object> names = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            names.add("holdfast-" + i + ".holdfast-peers.holdfast.svc.cluster.local");
        }
        names.addAll(List.of(
                "holdfast.holdfast.svc.cluster.local",
                "holdfast.holdfast.svc",
                "holdfast.holdfast",
                "holdfast",
                "localhost"));
        assertThat(list(node.get("dnsNames")))
                .as("make-secrets.sh's names for namespace holdfast")
                .isEqualTo(names);
        assertThat(list(node.get("ipAddresses"))).containsExactly("127.0.0.1");

        // The issuer chain resolves: node <- CA issuer <- CA certificate <- self-signed issuer.
        String caIssuer = String.valueOf(map(node.get("issuerRef")).get("name"));
        Map<String, Object> issuer = map(byName.get("Issuer/" + caIssuer).get("spec"));
        String caSecret = String.valueOf(map(issuer.get("ca")).get("secretName"));
        Map<String, Object> ca = byName.values().stream()
                .filter(d -> "Certificate".equals(d.get("kind")))
                .map(d -> map(d.get("spec")))
                .filter(spec -> caSecret.equals(spec.get("secretName")))
                .findFirst()
                .orElseThrow();
        assertThat(ca).containsEntry("isCA", true);
        assertThat(map(byName.get("Issuer/" + map(ca.get("issuerRef")).get("name"))
                        .get("spec")))
                .containsKey("selfSigned");
    }
}
