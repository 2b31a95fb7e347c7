package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The list of modules that holdfast-api's {@code module-info} exports {@code io.holdfast.internal}
 * to, kept true. The builds and tests run on the class path, where that list is not enforced: a
 * module that starts using the helpers and is missing from it would fail only on the module path,
 * in an application. So every module whose main code names the package must be on the list
 * (by its {@code Automatic-Module-Name}, the POM's {@code holdfast.module}), and every module on the
 * list must use it.
 */
class InternalExportsTest {
    private static final String PACKAGE = "io.holdfast.internal";
    private static final Pattern USE = Pattern.compile("\\bio\\.holdfast\\.internal\\.");
    private static final Pattern EXPORT = Pattern.compile("exports\\s+io\\.holdfast\\.internal\\s+to\\s+([^;]+);");
    private static final Pattern MODULE_NAME = Pattern.compile("<holdfast\\.module>([^<]+)</holdfast\\.module>");

    /** The repository root: this module's parent (surefire runs in the module's directory). */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theQualifiedExportNamesExactlyTheModulesThatUseTheInternals() throws IOException {
        Set<String> exportedTo =
                exportedTo(Files.readString(ROOT.resolve("holdfast-api/src/main/java/module-info.java")));
        Set<String> users = users();
        assertThat(users).as("modules using %s, found under %s", PACKAGE, ROOT).contains("io.holdfast.client");
        assertThat(mismatches(exportedTo, users)).isEmpty();
    }

    @Test
    void aMissingAndASurplusModuleAreBothCaught() {
        assertThat(mismatches(Set.of("a.one"), Set.of("a.one", "a.two")))
                .containsExactly("a.two uses " + PACKAGE + ", but module-info does not export it to a.two");
        assertThat(mismatches(Set.of("a.one", "a.two"), Set.of("a.one")))
                .containsExactly("module-info exports " + PACKAGE + " to a.two, which does not use it");
    }

    @Test
    void theListIsReadFromTheDescriptor() {
        String descriptor = "module io.holdfast {\n    exports io.holdfast;\n    exports " + PACKAGE
                + " to\n            a.one,\n            a.two;\n}\n";
        assertThat(exportedTo(descriptor)).containsExactly("a.one", "a.two");
        assertThat(exportedTo("module io.holdfast {\n    exports io.holdfast;\n}\n"))
                .isEmpty();
    }

    /** One line for each module used but not exported to, and each exported to but unused. */
    static List<String> mismatches(Set<String> exportedTo, Set<String> users) {
        List<String> found = new ArrayList<>();
        users.stream()
                .filter(m -> !exportedTo.contains(m))
                .sorted()
                .forEach(m -> found.add(m + " uses " + PACKAGE + ", but module-info does not export it to " + m));
        exportedTo.stream()
                .filter(m -> !users.contains(m))
                .sorted()
                .forEach(m -> found.add("module-info exports " + PACKAGE + " to " + m + ", which does not use it"));
        return found;
    }

    static Set<String> exportedTo(String descriptor) {
        Matcher m = EXPORT.matcher(descriptor);
        if (!m.find()) {
            return Set.of();
        }
        return Arrays.stream(m.group(1).split(",")).map(String::trim).collect(Collectors.toCollection(TreeSet::new));
    }

    /** The modules (but holdfast-api) with a main source that names the package. */
    private static Set<String> users() throws IOException {
        Set<String> users = new TreeSet<>();
        try (Stream<Path> poms = Files.walk(ROOT, 3)) {
            for (Path pom : poms.filter(p -> p.endsWith("pom.xml")).toList()) {
                Path module = pom.getParent();
                Path main = module.resolve("src/main/java");
                if (Files.isDirectory(main) && !module.endsWith("holdfast-api") && uses(main)) {
                    Matcher name = MODULE_NAME.matcher(Files.readString(pom));
                    assertThat(name.find()).as("%s names its module", pom).isTrue();
                    users.add(name.group(1));
                }
            }
        }
        return users;
    }

    private static boolean uses(Path main) throws IOException {
        try (Stream<Path> files = Files.walk(main)) {
            return files.filter(p -> p.toString().endsWith(".java")).anyMatch(p -> {
                try {
                    return USE.matcher(Files.readString(p)).find();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
