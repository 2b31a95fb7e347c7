package io.holdfast.verify.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClientArgsTest {
    @Test
    void optionsAndDurationsParse() {
        Map<String, String> o = ClientArgs.parse(new String[] {
            "--id",
            "x1",
            "--uri",
            "holdfast://a:1,b:2",
            "--history",
            "h",
            "--fenced",
            "l:1",
            "--unfenced",
            "l:2",
            "--seed",
            "9",
            "--ttl",
            "3s",
            "--intruder"
        });
        assertThat(o).containsEntry("id", "x1").containsEntry("intruder", "").containsEntry("ttl", "3s");
        assertThat(ClientArgs.duration("3s")).isEqualTo(Duration.ofSeconds(3));
        assertThat(ClientArgs.duration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(ClientArgs.duration("PT1M")).isEqualTo(Duration.ofMinutes(1));
        assertThatThrownBy(() -> ClientArgs.duration("soon")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ClientArgs.parse(new String[] {"--id", "c1"})).hasMessageContaining("missing --uri");
    }

    @Test
    void anUnknownClientBugOrStoreAddressIsRefused() {
        String[] required = {
            "--id",
            "c1",
            "--uri",
            "mem:x",
            "--history",
            "h",
            "--fenced",
            "l:1",
            "--unfenced",
            "l:2",
            "--seed",
            "1",
            "--ttl",
            "3s"
        };
        String[] withBug = java.util.Arrays.copyOf(required, required.length + 2);
        withBug[required.length] = "--bug";
        withBug[required.length + 1] = "no-such-bug";
        assertThatThrownBy(() -> ClientArgs.parse(withBug)).hasMessageContaining("unknown client bug 'no-such-bug'");
        assertThatThrownBy(() -> ClientArgs.openStore("nocolon")).hasMessageContaining("HOST:PORT");
    }
}
