package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;

/**
 * What an application that depends on {@code holdfast-client} resolves, as Maven resolves it outside
 * this build, where the parent's dependency management does not reach the client's own
 * dependencies: a consumer POM of one dependency, whose {@code dependency:tree} runs offline in a
 * Maven of its own, against a private local repository holding the POMs a release publishes (the
 * parent's and the published modules', as they are in the tree) and reading everything else from
 * this machine's local repository without writing to it ({@code maven.repo.local.tail}).
 */
class ConsumerDependenciesTest {
    @TempDir
    Path dir;

    @Test
    void anApplicationOfHoldfastClientGetsTheGuavaFlavourThisBuildPins() throws Exception {
        Path root = DocumentationLinksTest.repositoryRoot();
        Element parent = PublicationTest.read(root.resolve("pom.xml"));
        String version = PublicationTest.text(parent, "version");
        Element properties = PublicationTest.child(parent, "properties");
        String guava = PublicationTest.text(properties, "guava.version");
        assertThat(guava).as("the build pins Guava's jre flavour").endsWith("-jre");

        stage(root, version);
        Path consumer = Files.writeString(
                Files.createDirectories(dir.resolve("consumer")).resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>com.example</groupId>
                  <artifactId>consumer</artifactId>
                  <version>1</version>
                  <dependencies>
                    <dependency>
                      <groupId>io.holdfast</groupId>
                      <artifactId>holdfast-client</artifactId>
                      <version>%s</version>
                    </dependency>
                  </dependencies>
                </project>
                """.formatted(version));
        String tree = dependencyTree(root, consumer, PublicationTest.text(properties, "dependency-plugin.version"));

        assertThat(tree)
                .as("the consumer's dependency tree")
                .contains("io.holdfast:holdfast-client:jar:" + version + ":compile")
                .contains("com.google.guava:guava:jar:" + guava + ":compile")
                .doesNotContain("-android");
    }

    /** The POMs a release publishes, laid out as a local repository: the parent's and each published module's. */
    private void stage(Path root, String version) throws Exception {
        put("holdfast-parent", version, root.resolve("pom.xml"));
        for (String module : PublicationTest.modules(root)) {
            Path pom = root.resolve(module).resolve("pom.xml");
            String artifact = PublicationTest.text(PublicationTest.read(pom), "artifactId");
            if (PublicationTest.published(root).contains(artifact)) {
                put(artifact, version, pom);
            }
        }
    }

    private void put(String artifact, String version, Path pom) throws IOException {
        Path into = Files.createDirectories(
                dir.resolve("repo/io/holdfast").resolve(artifact).resolve(version));
        Files.copy(pom, into.resolve(artifact + "-" + version + ".pom"));
    }

    private String dependencyTree(Path root, Path consumer, String pluginVersion) throws Exception {
        Path tree = dir.resolve("tree.txt");
        Path log = dir.resolve("maven.log");
        Path localRepository = Path.of(System.getProperty(
                "maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString()));
        Process maven = new ProcessBuilder(List.of(
                        root.resolve("mvnw").toString(),
                        "-B",
                        "-o",
                        "-q",
                        "-f",
                        consumer.toString(),
                        "-Dmaven.repo.local=" + dir.resolve("repo"),
                        "-Dmaven.repo.local.tail=" + localRepository,
                        "org.apache.maven.plugins:maven-dependency-plugin:" + pluginVersion + ":tree",
                        "-DoutputFile=" + tree))
                .directory(consumer.getParent().toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        if (!maven.waitFor(2, TimeUnit.MINUTES)) {
            maven.destroyForcibly();
        }
        assertThat(maven.exitValue())
                .as("mvn dependency:tree of the consumer:%n%s", Files.readString(log, StandardCharsets.UTF_8))
                .isZero();
        return Files.readString(tree, StandardCharsets.UTF_8);
    }
}
