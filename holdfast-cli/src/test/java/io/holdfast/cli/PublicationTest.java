package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * What a release to Maven Central needs from the POMs, checked on every build: the BOM lists exactly
 * the published modules (every module of the reactor that does not set {@code maven.deploy.skip}) at
 * the project's version; the metadata Central requires (url, licence, developers, SCM) is in the
 * parent and, the same, in the BOM (which has no parent); every published module has a name and a
 * description; the licence named is the repository's LICENSE; the BOM's own {@code sign} profile
 * signs it as the parent's signs everything else (release/stage.sh, docs/releasing.md). A module
 * added without its BOM line, or metadata or signing changed in one place only, fails here.
 */
class PublicationTest {
    private static final List<String> CENTRAL_METADATA = List.of("url", "licenses", "developers", "scm");

    @Test
    void theBomAndTheMetadataMatchTheReactor() throws Exception {
        Path root = DocumentationLinksTest.repositoryRoot();
        assertThat(problems(root)).isEmpty();
        assertThat(published(root))
                .as("the published modules found")
                .contains("holdfast-api", "holdfast-client", "holdfast-server", "holdfast-cli")
                .doesNotContain("holdfast-bench", "holdfast-it", "holdfast-bom");
        assertThat(Files.readString(root.resolve("LICENSE")))
                .as("the licence the POMs name")
                .contains("Apache License", "Version 2.0, January 2004");
    }

    @Test
    void aModuleMissingFromTheBomAndMetadataChangedInOnePlaceAreReported(@TempDir Path dir) throws Exception {
        Path root = DocumentationLinksTest.repositoryRoot();
        Path copy = Files.createDirectories(dir.resolve("repo"));
        Files.copy(root.resolve("pom.xml"), copy.resolve("pom.xml"));
        Files.createDirectories(copy.resolve("holdfast-bom"));
        Files.copy(root.resolve("holdfast-bom/pom.xml"), copy.resolve("holdfast-bom/pom.xml"));
        for (String module : modules(root)) {
            Files.createDirectories(copy.resolve(module));
            Files.copy(
                    root.resolve(module).resolve("pom.xml"),
                    copy.resolve(module).resolve("pom.xml"));
        }
        Path bom = copy.resolve("holdfast-bom/pom.xml");
        String text = Files.readString(bom);
        String entry = "<artifactId>holdfast-redis</artifactId>";
        assertThat(text).contains(entry);
        Files.writeString(
                bom,
                text.replace(entry, "<artifactId>holdfast-gone</artifactId>")
                        .replace("<tag>HEAD</tag>", "<tag>HEAD</tag><!-- changed -->")
                        .replace("<name>Apache-2.0</name>", "<name>MIT</name>")
                        .replace("<id>sign</id>", "<id>sign-me-not</id>"));
        Path client = copy.resolve("holdfast-client/pom.xml");
        String clientPom = Files.readString(client);
        String moduleName = "<holdfast.module>io.holdfast.client</holdfast.module>";
        assertThat(clientPom).contains(moduleName);
        Files.writeString(client, clientPom.replace(moduleName, "<holdfast.module>holdfast</holdfast.module>"));

        assertThat(problems(copy))
                .containsExactlyInAnyOrder(
                        "holdfast-bom does not list the published module holdfast-redis",
                        "holdfast-bom lists holdfast-gone, which is not a published module",
                        "holdfast-bom's <licenses> differs from the parent's",
                        "holdfast-bom has no sign profile signing it as the parent's does (maven-gpg-plugin)",
                        "holdfast-client names its module 'holdfast', not io.holdfast.client (property holdfast.module)");
    }

    /** What is wrong with the publication metadata of the reactor under {@code root}; empty if nothing. */
    static List<String> problems(Path root) throws Exception {
        List<String> problems = new ArrayList<>();
        Element parent = read(root.resolve("pom.xml"));
        Element bom = read(root.resolve("holdfast-bom/pom.xml"));
        if (!text(bom, "groupId").equals(text(parent, "groupId"))
                || !text(bom, "version").equals(text(parent, "version"))) {
            problems.add("holdfast-bom is " + text(bom, "groupId") + ":" + text(bom, "version") + ", the parent "
                    + text(parent, "groupId") + ":" + text(parent, "version"));
        }
        for (String element : CENTRAL_METADATA) {
            Element mine = child(parent, element);
            if (mine == null || mine.getTextContent().isBlank()) {
                problems.add("the parent has no <" + element + ">");
            } else if (!normalized(mine).equals(normalized(child(bom, element)))) {
                problems.add("holdfast-bom's <" + element + "> differs from the parent's");
            }
        }
        String gpgVersion = gpgVersion(parent);
        if (signing(parent) == null) {
            problems.add("the parent has no sign profile with maven-gpg-plugin");
        } else if (!signingOf(bom, gpgVersion).equals(signingOf(parent, gpgVersion))) {
            problems.add("holdfast-bom has no sign profile signing it as the parent's does (maven-gpg-plugin)");
        }
        if (!releaseModules(parent).contains("holdfast-bom")) {
            problems.add("the release profile does not build holdfast-bom");
        }
        Set<String> listed = new TreeSet<>();
        Element management = child(bom, "dependencyManagement");
        NodeList dependencies = management == null ? null : management.getElementsByTagName("dependency");
        for (int i = 0; dependencies != null && i < dependencies.getLength(); i++) {
            Element dependency = (Element) dependencies.item(i);
            listed.add(text(dependency, "artifactId"));
            if (!text(dependency, "groupId").equals(text(parent, "groupId"))
                    || !text(dependency, "version").equals("${project.version}")) {
                problems.add("holdfast-bom's " + text(dependency, "artifactId") + " is not " + text(parent, "groupId")
                        + " at ${project.version}");
            }
        }
        Set<String> published = published(root);
        for (String module : published) {
            if (!listed.contains(module)) {
                problems.add("holdfast-bom does not list the published module " + module);
            }
        }
        for (String artifact : listed) {
            if (!published.contains(artifact)) {
                problems.add("holdfast-bom lists " + artifact + ", which is not a published module");
            }
        }
        for (String module : modules(root)) {
            Element pom = read(root.resolve(module).resolve("pom.xml"));
            if (published.contains(text(pom, "artifactId"))
                    && (text(pom, "name").isBlank() || text(pom, "description").isBlank())) {
                problems.add(module + " has no <name> or no <description>");
            }
            if (published.contains(text(pom, "artifactId"))) {
                // The jar's Automatic-Module-Name (the parent's jar plugin writes holdfast.module): the
                // module's root package, so that module-path users get stable names.
                Element properties = child(pom, "properties");
                String name = properties == null ? "" : text(properties, "holdfast.module");
                String expected = text(pom, "artifactId").equals("holdfast-api")
                        ? "io.holdfast"
                        : "io.holdfast." + text(pom, "artifactId").substring("holdfast-".length());
                if (!name.equals(expected)) {
                    problems.add(module + " names its module '" + name + "', not " + expected
                            + " (property holdfast.module)");
                }
            }
        }
        return problems;
    }

    /** The artifact ids of the reactor's modules that are deployed (the BOM itself excluded). */
    static Set<String> published(Path root) throws Exception {
        Set<String> published = new TreeSet<>();
        for (String module : modules(root)) {
            Element pom = read(root.resolve(module).resolve("pom.xml"));
            Element properties = child(pom, "properties");
            boolean skipped = properties != null && "true".equals(text(properties, "maven.deploy.skip"));
            if (!skipped && !"pom".equals(text(pom, "packaging"))) {
                published.add(text(pom, "artifactId"));
            }
        }
        return published;
    }

    static List<String> modules(Path root) throws Exception {
        List<String> modules = new ArrayList<>();
        // The modules of the everyday build; the release profile's (the BOM) are not published modules.
        NodeList found = child(read(root.resolve("pom.xml")), "modules").getElementsByTagName("module");
        for (int i = 0; i < found.getLength(); i++) {
            modules.add(found.item(i).getTextContent().trim());
        }
        return modules;
    }

    private static List<String> releaseModules(Element parent) {
        List<String> modules = new ArrayList<>();
        Element profiles = child(parent, "profiles");
        NodeList all = profiles == null ? null : profiles.getElementsByTagName("profile");
        for (int i = 0; all != null && i < all.getLength(); i++) {
            Element profile = (Element) all.item(i);
            Element listed = child(profile, "modules");
            if ("release".equals(text(profile, "id")) && listed != null) {
                NodeList found = listed.getElementsByTagName("module");
                for (int j = 0; j < found.getLength(); j++) {
                    modules.add(found.item(j).getTextContent().trim());
                }
            }
        }
        return modules;
    }

    /** The maven-gpg-plugin of the pom's {@code sign} profile, or null. */
    private static Element signing(Element pom) {
        Element profiles = child(pom, "profiles");
        NodeList all = profiles == null ? null : profiles.getElementsByTagName("profile");
        for (int i = 0; all != null && i < all.getLength(); i++) {
            Element profile = (Element) all.item(i);
            Element build = "sign".equals(text(profile, "id")) ? child(profile, "build") : null;
            Element plugins = build == null ? null : child(build, "plugins");
            NodeList found = plugins == null ? null : plugins.getElementsByTagName("plugin");
            for (int j = 0; found != null && j < found.getLength(); j++) {
                Element plugin = (Element) found.item(j);
                if ("maven-gpg-plugin".equals(text(plugin, "artifactId"))) {
                    return plugin;
                }
            }
        }
        return null;
    }

    /** The pom's signing plugin: its version (the parent's property resolved) and its executions. */
    private static String signingOf(Element pom, String gpgVersion) {
        Element plugin = signing(pom);
        return plugin == null
                ? "(none)"
                : text(plugin, "version").replace("${gpg-plugin.version}", gpgVersion)
                        + normalized(child(plugin, "executions"));
    }

    private static String gpgVersion(Element parent) {
        Element properties = child(parent, "properties");
        return properties == null ? "" : text(properties, "gpg-plugin.version");
    }

    static Element read(Path pom) throws Exception {
        if (!Files.isRegularFile(pom)) {
            throw new IOException("no " + pom);
        }
        Document document =
                DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        return document.getDocumentElement();
    }

    /** The direct child element of that name, or null. */
    static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e;
            }
        }
        return null;
    }

    static String text(Element parent, String name) {
        Element e = child(parent, name);
        return e == null ? "" : e.getTextContent().trim();
    }

    /** The element with its attributes and child elements, whitespace and comments ignored. */
    private static String normalized(Element e) {
        if (e == null) {
            return "(missing)";
        }
        StringBuilder out = new StringBuilder("<").append(e.getTagName());
        for (int i = 0; i < e.getAttributes().getLength(); i++) {
            Node a = e.getAttributes().item(i);
            out.append(' ').append(a.getNodeName()).append('=').append(a.getNodeValue());
        }
        out.append('>');
        boolean hasChildren = false;
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                out.append(normalized(c));
                hasChildren = true;
            }
        }
        if (!hasChildren) {
            out.append(e.getTextContent().trim());
        }
        return out.append("</").append(e.getTagName()).append('>').toString();
    }
}
