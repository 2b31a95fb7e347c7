package io.holdfast.it.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Kubernetes manifests read as the API server and the kubelet would: every document of the given
 * YAML files, and a StatefulSet's pod rendered from them ({@link #pod}). What it renders, as
 * Kubernetes does: the container's {@code command}/{@code args} in place of the image's entrypoint
 * and command; {@code env} in order, each value's {@code $(NAME)} replaced by an earlier variable's
 * value ({@code $$} a dollar, an unknown name left as written), {@code fieldRef} of {@code
 * metadata.name}, {@code metadata.namespace} and {@code status.podIP}; the service links ({@code
 * NAME_SERVICE_HOST}, {@code NAME_PORT…}) of every Service with a cluster IP unless {@code
 * enableServiceLinks: false}; {@code HOSTNAME}; ConfigMap and Secret volumes as files, claims from
 * {@code volumeClaimTemplates} as the pod's own {@code TEMPLATE-POD} claim; HTTP probes with named
 * ports. Anything else it meets in a container (another kind of volume or probe, an {@code envFrom})
 * is refused by name rather than ignored.
 */
final class Manifests {
    /** What the image gives: its entrypoint and its default command (the image's contract). */
    record Image(List<String> entrypoint, List<String> cmd) {}

    /** The cluster IP that service links name, for Services that have one: any address will do. */
    static final String SERVICE_IP = "10.96.0.10";

    private static final Pattern REFERENCE = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

    private final List<Map<String, Object>> docs;

    private Manifests(List<Map<String, Object>> docs) {
        this.docs = docs;
    }

    /** Every {@code *.yaml} file in {@code dir} (not below it), and {@code more} files. */
    static Manifests read(Path dir, Path... more) {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        files.addAll(List.of(more));
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Path f : files) {
            try {
                for (Object doc : new Yaml(new LoaderOptions()).loadAll(Files.readString(f))) {
                    if (doc != null) {
                        docs.add(map(doc, f.toString()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new Manifests(docs);
    }

    /** The one object of {@code kind} named {@code name}. */
    Map<String, Object> get(String kind, String name) {
        return docs.stream()
                .filter(d -> kind.equals(d.get("kind")) && name.equals(str(map(d.get("metadata"), kind), "name")))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + kind + " named " + name + " in the manifests"));
    }

    /** Every object of {@code kind}. */
    List<Map<String, Object>> all(String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    }

    /** Pod {@code ordinal} of StatefulSet {@code name} in {@code namespace}, at {@code ip}, its only container. */
    RenderedPod pod(String name, int ordinal, String namespace, String ip, Image image) {
        Map<String, Object> set = map(get("StatefulSet", name).get("spec"), "spec");
        Map<String, Object> pod = map(map(set.get("template"), "template").get("spec"), "template.spec");
        List<Object> containers = list(pod.get("containers"));
        if (containers.size() != 1 || pod.containsKey("initContainers")) {
            throw new IllegalArgumentException("renders a pod of one container only");
        }
        Map<String, Object> c = map(containers.get(0), "container");
        String podName = name + "-" + ordinal;
        Map<String, String> env = new LinkedHashMap<>();
        if (!Boolean.FALSE.equals(pod.get("enableServiceLinks"))) {
            all("Service").forEach(s -> serviceLinks(s, env));
        }
        env.put("HOSTNAME", podName);
        if (c.containsKey("envFrom")) {
            throw new IllegalArgumentException("envFrom is not rendered");
        }
        for (Object o : list(c.get("env"))) {
            Map<String, Object> e = map(o, "env");
            String value;
            if (e.containsKey("valueFrom")) {
                String field = str(map(map(e.get("valueFrom"), "valueFrom").get("fieldRef"), "fieldRef"), "fieldPath");
                value = switch (field) {
                    case "metadata.name" -> podName;
                    case "metadata.namespace" -> namespace;
                    case "status.podIP" -> ip;
                    default -> throw new IllegalArgumentException("fieldRef " + field + " is not rendered");
                };
            } else {
                value = expand(String.valueOf(e.getOrDefault("value", "")), env);
            }
            env.put(str(e, "name"), value);
        }
        List<String> command = new ArrayList<>();
        List<String> entry = c.containsKey("command") ? strings(c.get("command")) : image.entrypoint();
        List<String> args =
                c.containsKey("args") ? strings(c.get("args")) : c.containsKey("command") ? List.of() : image.cmd();
        Stream.concat(entry.stream(), args.stream()).map(a -> expand(a, env)).forEach(command::add);
        Map<String, Object> security = map(pod.getOrDefault("securityContext", Map.of()), "securityContext");
        return new RenderedPod(
                podName,
                ordinal,
                namespace,
                ip,
                List.copyOf(command),
                env,
                mounts(set, pod, c, podName),
                probe(c, "startupProbe"),
                probe(c, "livenessProbe"),
                probe(c, "readinessProbe"),
                ((Number) pod.getOrDefault("terminationGracePeriodSeconds", 30)).longValue(),
                ((Number) security.getOrDefault("runAsUser", 0)).longValue(),
                ((Number) security.getOrDefault("runAsGroup", 0)).longValue(),
                ((Number) security.getOrDefault("fsGroup", 0)).longValue(),
                containerSecurity(c));
    }

    /** The container's {@code securityContext}, as far as the kubelet renders it (anything else in it is refused). */
    private static RenderedPod.Security containerSecurity(Map<String, Object> c) {
        Map<String, Object> sc = map(c.getOrDefault("securityContext", Map.of()), "container securityContext");
        for (String key : sc.keySet()) {
            if (!List.of("allowPrivilegeEscalation", "capabilities", "readOnlyRootFilesystem")
                    .contains(key)) {
                throw new IllegalArgumentException("container securityContext." + key + " is not rendered");
            }
        }
        Map<String, Object> caps = map(sc.getOrDefault("capabilities", Map.of()), "capabilities");
        if (caps.containsKey("add")) {
            throw new IllegalArgumentException("capabilities.add is not rendered");
        }
        boolean dropAll = caps.containsKey("drop") && strings(caps.get("drop")).contains("ALL");
        return new RenderedPod.Security(
                Boolean.FALSE.equals(sc.get("allowPrivilegeEscalation")),
                dropAll,
                Boolean.TRUE.equals(sc.get("readOnlyRootFilesystem")));
    }

    /** {@code value} with {@code $(NAME)} replaced from {@code env}, as Kubernetes expands env, command and args. */
    static String expand(String value, Map<String, String> env) {
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = m.group(1) == null ? "$" : env.getOrDefault(m.group(1), m.group());
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        return m.appendTail(out).toString();
    }

    private static void serviceLinks(Map<String, Object> service, Map<String, String> env) {
        Map<String, Object> spec = map(service.get("spec"), "Service spec");
        if ("None".equals(spec.get("clusterIP"))) {
            return;
        }
        String prefix = str(map(service.get("metadata"), "metadata"), "name")
                .toUpperCase(Locale.ROOT)
                .replace('-', '_');
        List<Object> ports = list(spec.get("ports"));
        for (int i = 0; i < ports.size(); i++) {
            Map<String, Object> p = map(ports.get(i), "port");
            String port = String.valueOf(p.get("port"));
            String proto = String.valueOf(p.getOrDefault("protocol", "TCP"));
            if (i == 0) {
                env.put(prefix + "_SERVICE_HOST", SERVICE_IP);
                env.put(prefix + "_SERVICE_PORT", port);
                env.put(prefix + "_PORT", proto.toLowerCase(Locale.ROOT) + "://" + SERVICE_IP + ":" + port);
            }
            if (p.get("name") != null) {
                env.put(
                        prefix + "_SERVICE_PORT_"
                                + str(p, "name").toUpperCase(Locale.ROOT).replace('-', '_'),
                        port);
            }
            String base = prefix + "_PORT_" + port + "_" + proto;
            env.put(base, proto.toLowerCase(Locale.ROOT) + "://" + SERVICE_IP + ":" + port);
            env.put(base + "_PROTO", proto.toLowerCase(Locale.ROOT));
            env.put(base + "_PORT", port);
            env.put(base + "_ADDR", SERVICE_IP);
        }
    }

    private List<RenderedPod.Mount> mounts(
            Map<String, Object> set, Map<String, Object> pod, Map<String, Object> c, String podName) {
        Map<String, Map<String, Object>> volumes = new LinkedHashMap<>();
        for (Object v : list(pod.get("volumes"))) {
            volumes.put(str(map(v, "volume"), "name"), map(v, "volume"));
        }
        List<String> claims = new ArrayList<>();
        for (Object t : list(set.get("volumeClaimTemplates"))) {
            claims.add(str(map(map(t, "claim").get("metadata"), "metadata"), "name"));
        }
        List<RenderedPod.Mount> mounts = new ArrayList<>();
        for (Object o : list(c.get("volumeMounts"))) {
            Map<String, Object> m = map(o, "volumeMount");
            String volume = str(m, "name");
            String path = str(m, "mountPath");
            boolean readOnly = Boolean.TRUE.equals(m.get("readOnly"));
            if (m.containsKey("subPath")) {
                throw new IllegalArgumentException("subPath is not rendered");
            }
            if (claims.contains(volume)) {
                mounts.add(new RenderedPod.Mount(path, volume, readOnly, Map.of(), 0, volume + "-" + podName, false));
                continue;
            }
            Map<String, Object> v = volumes.get(volume);
            if (v == null) {
                throw new IllegalArgumentException("volumeMount " + volume + " names no volume");
            }
            Map<String, byte[]> files = new LinkedHashMap<>();
            int mode;
            if (v.containsKey("emptyDir")) {
                mounts.add(new RenderedPod.Mount(path, volume, readOnly, Map.of(), 01777, null, true));
                continue;
            } else if (v.containsKey("configMap")) {
                Map<String, Object> ref = map(v.get("configMap"), "configMap");
                mode = ((Number) ref.getOrDefault("defaultMode", 0644)).intValue();
                map(get("ConfigMap", str(ref, "name")).get("data"), "data")
                        .forEach((k, val) -> files.put(k, String.valueOf(val).getBytes(StandardCharsets.UTF_8)));
            } else if (v.containsKey("secret")) {
                Map<String, Object> ref = map(v.get("secret"), "secret");
                mode = ((Number) ref.getOrDefault("defaultMode", 0644)).intValue();
                Map<String, Object> secret = get("Secret", str(ref, "secretName"));
                Map<String, byte[]> keys = new LinkedHashMap<>();
                map(secret.getOrDefault("data", Map.of()), "data")
                        .forEach((k, val) -> keys.put(k, Base64.getDecoder().decode(String.valueOf(val))));
                map(secret.getOrDefault("stringData", Map.of()), "stringData")
                        .forEach((k, val) -> keys.put(k, String.valueOf(val).getBytes(StandardCharsets.UTF_8)));
                if (ref.containsKey("items")) {
                    // Only the keys listed, each at its path; a key the Secret lacks fails the pod's start.
                    for (Object o2 : list(ref.get("items"))) {
                        Map<String, Object> item = map(o2, "item");
                        if (item.containsKey("mode")) {
                            throw new IllegalArgumentException("an item's mode is not rendered");
                        }
                        byte[] content = keys.get(str(item, "key"));
                        if (content == null) {
                            throw new IllegalArgumentException("Secret " + str(ref, "secretName") + " has no key "
                                    + str(item, "key") + " (volume " + volume + ")");
                        }
                        files.put(str(item, "path"), content);
                    }
                } else {
                    files.putAll(keys);
                }
            } else {
                throw new IllegalArgumentException("volume " + volume + " is of a kind not rendered: " + v.keySet());
            }
            mounts.add(new RenderedPod.Mount(path, volume, readOnly, files, mode, null, false));
        }
        return List.copyOf(mounts);
    }

    private static RenderedPod.Probe probe(Map<String, Object> c, String kind) {
        if (!c.containsKey(kind)) {
            return null;
        }
        Map<String, Object> p = map(c.get(kind), kind);
        Map<String, Object> get = map(p.get("httpGet"), kind + ".httpGet");
        Object port = get.get("port");
        int number = port instanceof Number n ? n.intValue() : namedPort(c, String.valueOf(port));
        return new RenderedPod.Probe(
                str(get, "path"),
                number,
                String.valueOf(get.getOrDefault("scheme", "HTTP")),
                ((Number) p.getOrDefault("periodSeconds", 10)).intValue(),
                ((Number) p.getOrDefault("failureThreshold", 3)).intValue());
    }

    private static int namedPort(Map<String, Object> c, String name) {
        for (Object o : list(c.get("ports"))) {
            Map<String, Object> p = map(o, "port");
            if (name.equals(p.get("name"))) {
                return ((Number) p.get("containerPort")).intValue();
            }
        }
        throw new IllegalArgumentException("no container port named " + name);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(what + " is not a mapping: " + o);
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static List<String> strings(Object o) {
        return list(o).stream().map(String::valueOf).toList();
    }

    static String str(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing '" + key + "' in " + m.keySet());
        }
        return String.valueOf(v);
    }
}
