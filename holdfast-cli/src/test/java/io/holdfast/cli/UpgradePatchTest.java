package io.holdfast.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code release/upgrade-test.sh} builds its release N+1 from this tree with {@code
 * release/upgrade/n-plus-one.patch}: a new command type after the tree's last one. The patch names
 * the tree's last type, so every new command type of the tree breaks it (protocol version 9's
 * prefix delete did, unseen until version 10). Checked here, on a copy of the two files it edits,
 * with {@code patch} itself: it applies, and its new type comes after every type of the tree.
 */
class UpgradePatchTest {
    private static final String CORE = "holdfast-core/src/main/java/io/holdfast/core/";

    @Test
    void theReleaseNPlusOnePatchAppliesToThisTree(@TempDir Path copy) throws Exception {
        Path root = DocumentationLinksTest.repositoryRoot();
        for (String file : new String[] {"CommandCodec.java", "CommandTypes.java"}) {
            Files.createDirectories(copy.resolve(CORE));
            Files.copy(root.resolve(CORE + file), copy.resolve(CORE + file));
        }
        Process patch = new ProcessBuilder(
                        "patch",
                        "-p1",
                        "-i",
                        root.resolve("release/upgrade/n-plus-one.patch").toString())
                .directory(copy.toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(patch.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(patch.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(patch.exitValue()).as(out).isZero();

        String patched = Files.readString(copy.resolve(CORE + "CommandCodec.java"));
        int last = io.holdfast.core.Vocabulary.CURRENT.version();
        assertThat(patched)
                .as("the new type is of the version after this tree's, %d", last)
                .containsPattern("END_SESSION_NEXT\\(\\d+, " + (last + 1) + "\\);");
    }
}
