package io.holdfast.it.k8s;

import java.util.List;
import java.util.Map;

/**
 * One pod of a StatefulSet as the kubelet would start its one container: the exact command line
 * (the image's entrypoint and command, or the container's {@code command} and {@code args}, with
 * {@code $(VAR)} expanded), the exact environment (in the order Kubernetes gives it, downward-API
 * values filled in), what is mounted where, its probes and its termination grace. Paths are the
 * container's own: {@link Kubelet} makes them exist in the pod's mount namespace.
 */
record RenderedPod(
        String name,
        int ordinal,
        String namespace,
        String ip,
        List<String> command,
        Map<String, String> env,
        List<Mount> mounts,
        Probe startup,
        Probe liveness,
        Probe readiness,
        long graceSeconds,
        long runAsUser,
        long runAsGroup,
        long fsGroup,
        Security security) {

    /**
     * What the container's {@code securityContext} asks of the kubelet that it renders: no privilege
     * escalation (the process's no_new_privs), no capabilities ({@code drop: [ALL]}), a read-only
     * root file system (its volumes stay as mounted).
     */
    record Security(boolean noNewPrivileges, boolean noCapabilities, boolean readOnlyRoot) {}

    /**
     * What the kubelet mounts at {@code path}: files (a ConfigMap's or a Secret's), the pod's claim,
     * or an {@code emptyDir} ({@code empty}: a new directory each time the pod starts).
     */
    record Mount(
            String path,
            String volume,
            boolean readOnly,
            Map<String, byte[]> files,
            int mode,
            String claim,
            boolean empty) {
        boolean persistent() {
            return claim != null;
        }
    }

    /** An HTTP probe: GET {@code scheme://podIP:port/path}, every {@code periodSeconds}. */
    record Probe(String path, int port, String scheme, int periodSeconds, int failureThreshold) {}

    /** The pod's DNS name behind the StatefulSet's headless Service. */
    String peerName(String service) {
        return name + "." + service + "." + namespace + ".svc.cluster.local";
    }
}
