package io.holdfast.floors;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The engines {@link Floors} knows, by row name: the module whose class path runs it (each engine runs in a child
 * JVM with its own module's class path, so that no engine's libraries are on another's), its class (constructed
 * with the row name, which picks the variant), and the JVM options it needs.
 */
final class Engines {
    record Kind(String name, String module, String className, List<String> jvmOptions) {
        /** A new engine of this kind; its class must be on this JVM's class path. */
        Engine create() {
            try {
                return (Engine) Class.forName(className)
                        .getDeclaredConstructor(String.class)
                        .newInstance(name);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(
                        name + " runs on " + module + "'s class path, and " + className + " is not on this one");
            } catch (InvocationTargetException e) {
                throw new IllegalStateException(name + ": " + e.getCause().getMessage(), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(name + ": cannot construct " + className + ": " + e, e);
            }
        }

        /** This kind's module's classes and libraries, under the repository's root. */
        String classPath(Path root) throws java.io.IOException {
            Path target = root.resolve(module).resolve("target");
            Path file = target.resolve("classpath.txt");
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException(
                        file + " is missing: build " + module + " first (holdfast-floors/floors.sh does)");
            }
            return target.resolve("classes")
                    + java.io.File.pathSeparator
                    + Files.readString(file).trim();
        }
    }

    private static final String HERE = "holdfast-floors";
    private static final String JRAFT = "holdfast-floors-sofajraft";
    private static final String JGROUPS = "holdfast-floors-jgroups";
    private static final List<String> NATIVE = List.of("--enable-native-access=ALL-UNNAMED");
    private static final Map<String, Kind> KINDS = new LinkedHashMap<>();

    static {
        add(new Kind("ratis-grpc", HERE, "io.holdfast.floors.RatisEngine", List.of()));
        add(new Kind("ratis-table", HERE, "io.holdfast.floors.RatisEngine", List.of()));
        add(new Kind("ratis-netty", HERE, "io.holdfast.floors.RatisEngine", List.of()));
        add(new Kind("zookeeper", HERE, "io.holdfast.floors.ZooKeeperEngine", List.of()));
        // Netty, RocksDB and JNA load native code: JDK 22+ warns without the option; JDK 17 accepts it.
        add(new Kind("sofajraft", JRAFT, "io.holdfast.floors.sofajraft.SofaJRaftEngine", NATIVE));
        add(new Kind("sofajraft-segment", JRAFT, "io.holdfast.floors.sofajraft.SofaJRaftEngine", NATIVE));
        add(new Kind("jgroups-raft", JGROUPS, "io.holdfast.floors.jgroups.JGroupsRaftEngine", List.of()));
    }

    private static void add(Kind kind) {
        KINDS.put(kind.name(), kind);
    }

    static Kind kind(String name) {
        Kind k = KINDS.get(name);
        if (k == null) {
            throw new IllegalArgumentException("unknown engine " + name + "; known: " + String.join(", ", names()));
        }
        return k;
    }

    static List<String> names() {
        return List.copyOf(KINDS.keySet());
    }

    private Engines() {}
}
