package io.holdfast.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Every pod that deploy/kubernetes makes passes the "restricted" Pod Security Standard ({@link
 * PodSecurityStandard}), as a namespace labelled {@code pod-security.kubernetes.io/enforce:
 * restricted} would demand (issue 71: not false {@code allowPrivilegeEscalation}, capabilities not
 * dropping ALL, no seccomp profile). And each control of the check catches its violation, made in
 * the shipped pod, so that the check can fail. The pods run under those settings in {@link
 * KubernetesRollingRestartTest}: no privilege escalation, no capabilities, a read-only root.
 */
class RestrictedProfileTest {
    private static final Path DIR = ManifestsTest.DIR;

    /** Every pod spec of every workload in the manifests, by "Kind/name". */
    private static Map<String, Map<String, Object>> podSpecs() throws IOException {
        Map<String, Map<String, Object>> pods = new java.util.LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(DIR)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        for (Path f : files) {
            for (Object o : new Yaml(new LoaderOptions()).loadAll(Files.readString(f))) {
                if (!(o instanceof Map<?, ?> doc)) {
                    continue;
                }
                String kind = String.valueOf(doc.get("kind"));
                String name = String.valueOf(map(doc.get("metadata")).get("name"));
                Map<String, Object> spec = map(doc.get("spec"));
                Map<String, Object> pod = switch (kind) {
                    case "Pod" -> spec;
                    case "CronJob" ->
                        map(map(map(map(spec.get("jobTemplate")).get("spec")).get("template"))
                                .get("spec"));
                    case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job" ->
                        map(map(spec.get("template")).get("spec"));
                    default -> null;
                };
                if (pod != null) {
                    pods.put(kind + "/" + name, pod);
                }
            }
        }
        return pods;
    }

    @Test
    void everyPodOfTheManifestsPassesTheRestrictedProfile() throws IOException {
        Map<String, Map<String, Object>> pods = podSpecs();
        assertThat(pods).as("workloads in " + DIR).containsKey("StatefulSet/holdfast");
        List<String> violations = new ArrayList<>();
        pods.forEach((where, pod) -> violations.addAll(PodSecurityStandard.restrictedViolations(pod, where)));
        assertThat(violations).as("the restricted profile's violations").isEmpty();
    }

    /** The shipped pod with one change, and the violations the check finds in it. */
    private static List<String> violationsAfter(Consumer<Map<String, Object>> change) throws IOException {
        Map<String, Object> pod = podSpecs().get("StatefulSet/holdfast");
        change.accept(pod);
        return PodSecurityStandard.restrictedViolations(pod, "StatefulSet/holdfast");
    }

    private static Map<String, Object> container(Map<String, Object> pod) {
        return map(((List<?>) pod.get("containers")).get(0));
    }

    private static Map<String, Object> containerSecurity(Map<String, Object> pod) {
        return map(container(pod).get("securityContext"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void eachControlCatchesItsViolation() throws IOException {
        assertThat(violationsAfter(p -> containerSecurity(p).remove("allowPrivilegeEscalation")))
                .singleElement()
                .asString()
                .contains("allowPrivilegeEscalation is not false");
        assertThat(violationsAfter(p -> containerSecurity(p).remove("capabilities")))
                .singleElement()
                .asString()
                .contains("capabilities.drop does not include ALL");
        assertThat(violationsAfter(
                        p -> map(containerSecurity(p).get("capabilities")).put("add", List.of("SYS_ADMIN"))))
                .singleElement()
                .asString()
                .contains("capabilities.add has SYS_ADMIN");
        assertThat(violationsAfter(p -> map(p.get("securityContext")).remove("seccompProfile")))
                .singleElement()
                .asString()
                .contains("no seccompProfile");
        assertThat(violationsAfter(
                        p -> map(p.get("securityContext")).put("seccompProfile", Map.of("type", "Unconfined"))))
                .anySatisfy(v -> assertThat(v).contains("seccompProfile.type is Unconfined"));
        assertThat(violationsAfter(p -> map(p.get("securityContext")).remove("runAsNonRoot")))
                .singleElement()
                .asString()
                .contains("runAsNonRoot is not true");
        assertThat(violationsAfter(p -> map(p.get("securityContext")).put("runAsUser", 0)))
                .singleElement()
                .asString()
                .contains("runAsUser is 0");
        assertThat(violationsAfter(p -> containerSecurity(p).put("privileged", true)))
                .singleElement()
                .asString()
                .contains("privileged is true");
        assertThat(violationsAfter(p -> p.put("hostNetwork", true)))
                .singleElement()
                .asString()
                .contains("spec.hostNetwork is true");
        assertThat(violationsAfter(p -> ((List<Object>) p.get("volumes"))
                        .add(Map.of("name", "host", "hostPath", Map.of("path", "/var/run")))))
                .singleElement()
                .asString()
                .contains("volume host is a hostPath volume");
        assertThat(violationsAfter(p -> ((List<Object>) container(p).get("ports"))
                        .add(Map.of("name", "h", "containerPort", 80, "hostPort", 80))))
                .singleElement()
                .asString()
                .contains("a hostPort 80");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
