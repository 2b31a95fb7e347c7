package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FileStoreUriTest {
    @Test
    void acceptsOnlyTheFileScheme() {
        assertThat(FileStoreUri.accepts("file:///tmp/x")).isTrue();
        assertThat(FileStoreUri.accepts("FILE:///tmp/x")).isTrue();
        assertThat(FileStoreUri.accepts("redis://localhost")).isFalse();
        assertThat(FileStoreUri.accepts(null)).isFalse();
    }

    @Test
    void defaultsAndOptions() {
        FileStoreUri plain = FileStoreUri.parse("file:///var/lib/holdfast");
        assertThat(plain.directory()).isEqualTo(Path.of("/var/lib/holdfast"));
        assertThat(plain.create()).isTrue();
        assertThat(plain.fsync()).isTrue();
        assertThat(plain.maxPoll()).isEqualTo(Duration.ofMillis(100));

        FileStoreUri tuned = FileStoreUri.parse("file:/srv/my%20locks/?create=false&fsync=false&maxPoll=2s");
        assertThat(tuned.directory()).isEqualTo(Path.of("/srv/my locks"));
        assertThat(tuned.create()).isFalse();
        assertThat(tuned.fsync()).isFalse();
        assertThat(tuned.maxPoll()).isEqualTo(Duration.ofSeconds(2));
        assertThat(FileStoreUri.parse("file://localhost/a/../b").directory()).isEqualTo(Path.of("/b"));
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "file:relative/dir | relative path",
                "file://otherhost/dir | names the host 'otherhost'",
                "file:///dir#frag | fragment",
                "file:///dir?fsync=maybe | fsync must be true or false",
                "file:///dir?maxPoll=0ms | not within 1ms..10s",
                "file:///dir?maxPoll=fast | expected a duration",
                "file:///dir?colour=blue | unknown file URI option 'colour'",
                "file:///dir?fsync | not of the form name=value",
                "file:///dir with space | malformed file URI",
                "http://x/y | not a file URI",
            })
    void malformedUrisAreRefusedNamingTheProblem(String uri, String message) {
        assertThatThrownBy(() -> FileStoreUri.parse(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(message);
    }
}
