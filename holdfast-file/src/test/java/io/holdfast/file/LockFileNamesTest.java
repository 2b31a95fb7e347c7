package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LockFileNamesTest {
    @Test
    void namesBecomeSafeReadableFileNames() {
        String file = LockFileNames.of("orders/42");
        assertThat(file).startsWith("orders~42.").endsWith(".lock").hasSize("orders~42.".length() + 64 + 5);
        assertThat(LockFileNames.of("orders/42")).as("stable").isEqualTo(file);
        assertThat(LockFileNames.of("..")).startsWith("...").doesNotContain("/");
    }

    @Test
    void namesThatLookAlikeGetDifferentFiles() {
        // the same readable part, different names: the hash tells them apart
        List<String> names = List.of("a/b", "a~b", "a_b", "a b", "a\u00e9b", "a\u00e8b", "a/b/", "A/b", "a/b ");
        Set<String> files = new HashSet<>();
        for (String n : names) {
            files.add(LockFileNames.of(n));
        }
        assertThat(files).hasSameSizeAs(names);
    }

    @Test
    void longAndUnicodeNamesStayWithinFileNameLimits() {
        String longest = "\u6f22".repeat(170); // 510 bytes of UTF-8
        for (String n : List.of(longest, "x".repeat(512), "\uD83D\uDD12/lock", "/")) {
            String file = LockFileNames.of(n);
            assertThat(file.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(134);
            assertThat(file).matches("[A-Za-z0-9._~-]+\\.[0-9a-f]{64}\\.lock");
        }
    }
}
