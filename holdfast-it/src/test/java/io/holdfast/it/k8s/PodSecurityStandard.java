package io.holdfast.it.k8s;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards,
 * the baseline's controls and the restricted ones, as of Kubernetes 1.30), checked on a pod spec as
 * the {@code pod-security.kubernetes.io/enforce: restricted} admission would: each control a
 * violation of one line naming the field.
 *
 * <p>Checks: no host namespaces, host ports, host paths or privileged containers; capabilities
 * dropping {@code ALL} and adding none but {@code NET_BIND_SERVICE}; no privilege escalation; not
 * root ({@code runAsNonRoot}, and no {@code runAsUser: 0}); a seccomp profile of {@code
 * RuntimeDefault} or {@code Localhost}; only the volume kinds the profile allows; the default
 * {@code /proc} mount; only safe sysctls; no AppArmor or SELinux settings it forbids. Every
 * container counts: init and ephemeral ones too.
 *
 * <p>Does not check what a cluster's own admission adds (an image policy, resource limits), nor
 * Windows pods' {@code hostProcess}.
 */
final class PodSecurityStandard {
    private static final Set<String> VOLUME_KINDS = Set.of(
            "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret");
    private static final Set<String> SAFE_SYSCTLS = Set.of(
            "kernel.shm_rmid_forced",
            "net.ipv4.ip_local_port_range",
            "net.ipv4.ip_unprivileged_port_start",
            "net.ipv4.tcp_syncookies",
            "net.ipv4.ping_group_range",
            "net.ipv4.ip_local_reserved_ports",
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes");

    private PodSecurityStandard() {}

    /** Every violation of the restricted profile in {@code pod} (a pod's spec), each naming {@code where}. */
    static List<String> restrictedViolations(Map<String, Object> pod, String where) {
        List<String> out = new ArrayList<>();
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
            if (Boolean.TRUE.equals(pod.get(host))) {
                out.add(where + ": spec." + host + " is true");
            }
        }
        Map<String, Object> podSc = map(pod.get("securityContext"));
        for (Object v : list(pod.get("volumes"))) {
            Map<String, Object> volume = map(v);
            volume.keySet().stream()
                    .filter(k -> !k.equals("name") && !VOLUME_KINDS.contains(k))
                    .forEach(k -> out.add(where + ": volume " + volume.get("name") + " is a " + k + " volume"));
        }
        for (Object s : list(podSc.get("sysctls"))) {
            Object name = map(s).get("name");
            if (!SAFE_SYSCTLS.contains(String.valueOf(name))) {
                out.add(where + ": securityContext.sysctls sets " + name + ", not a safe sysctl");
            }
        }
        seLinux(podSc, where + ": securityContext", out);
        appArmor(podSc, where + ": securityContext", out);
        if (Long.valueOf(0).equals(number(podSc.get("runAsUser")))) {
            out.add(where + ": securityContext.runAsUser is 0 (root)");
        }
        String podSeccomp = seccomp(podSc);
        if (podSeccomp != null && !podSeccomp.equals("RuntimeDefault") && !podSeccomp.equals("Localhost")) {
            out.add(where + ": securityContext.seccompProfile.type is " + podSeccomp);
        }
        boolean podNonRoot = Boolean.TRUE.equals(podSc.get("runAsNonRoot"));
        for (String kind : List.of("initContainers", "containers", "ephemeralContainers")) {
            for (Object o : list(pod.get(kind))) {
                Map<String, Object> c = map(o);
                String at = where + ": " + kind + "[" + c.get("name") + "]";
                container(c, at, podNonRoot, podSeccomp, out);
            }
        }
        return out;
    }

    private static void container(
            Map<String, Object> c, String at, boolean podNonRoot, String podSeccomp, List<String> out) {
        Map<String, Object> sc = map(c.get("securityContext"));
        if (Boolean.TRUE.equals(sc.get("privileged"))) {
            out.add(at + ".securityContext.privileged is true");
        }
        if (!Boolean.FALSE.equals(sc.get("allowPrivilegeEscalation"))) {
            out.add(at + ".securityContext.allowPrivilegeEscalation is not false");
        }
        Map<String, Object> caps = map(sc.get("capabilities"));
        if (!list(caps.get("drop")).contains("ALL")) {
            out.add(at + ".securityContext.capabilities.drop does not include ALL");
        }
        for (Object add : list(caps.get("add"))) {
            if (!"NET_BIND_SERVICE".equals(add)) {
                out.add(at + ".securityContext.capabilities.add has " + add);
            }
        }
        Object nonRoot = sc.get("runAsNonRoot");
        if (Boolean.FALSE.equals(nonRoot) || (nonRoot == null && !podNonRoot)) {
            out.add(at + ": runAsNonRoot is not true (neither the container's nor the pod's)");
        }
        if (Long.valueOf(0).equals(number(sc.get("runAsUser")))) {
            out.add(at + ".securityContext.runAsUser is 0 (root)");
        }
        String seccomp = seccomp(sc);
        if (seccomp == null && podSeccomp == null) {
            out.add(at + ": no seccompProfile (neither the container's nor the pod's)");
        } else if (seccomp != null && !seccomp.equals("RuntimeDefault") && !seccomp.equals("Localhost")) {
            out.add(at + ".securityContext.seccompProfile.type is " + seccomp);
        }
        if (sc.containsKey("procMount") && !"Default".equals(sc.get("procMount"))) {
            out.add(at + ".securityContext.procMount is " + sc.get("procMount"));
        }
        seLinux(sc, at + ".securityContext", out);
        appArmor(sc, at + ".securityContext", out);
        for (Object p : list(c.get("ports"))) {
            Object hostPort = map(p).get("hostPort");
            if (hostPort != null && number(hostPort) != 0) {
                out.add(at + ": a hostPort " + hostPort);
            }
        }
    }

    private static String seccomp(Map<String, Object> sc) {
        Object type = map(sc.get("seccompProfile")).get("type");
        return type == null ? null : String.valueOf(type);
    }

    private static void seLinux(Map<String, Object> sc, String at, List<String> out) {
        Map<String, Object> se = map(sc.get("seLinuxOptions"));
        if (se.containsKey("user") || se.containsKey("role")) {
            out.add(at + ".seLinuxOptions sets a user or role");
        }
        Object type = se.get("type");
        if (type != null
                && !List.of("container_t", "container_init_t", "container_kvm_t", "container_engine_t")
                        .contains(String.valueOf(type))) {
            out.add(at + ".seLinuxOptions.type is " + type);
        }
    }

    private static void appArmor(Map<String, Object> sc, String at, List<String> out) {
        Object type = map(sc.get("appArmorProfile")).get("type");
        if (type != null && !"RuntimeDefault".equals(type) && !"Localhost".equals(type)) {
            out.add(at + ".appArmorProfile.type is " + type);
        }
    }

    private static Long number(Object o) {
        return o instanceof Number n ? n.longValue() : null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static List<Object> list(Object o) {
        return o instanceof List<?> l ? List.copyOf(l) : List.of();
    }
}
