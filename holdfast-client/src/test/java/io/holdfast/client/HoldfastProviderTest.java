package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.client.internal.MemberAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HoldfastProviderTest {
    @Test
    void aUriNamesTheMembersInOrderWithoutDuplicates() {
        assertThat(HoldfastProvider.members("holdfast://10.0.0.1:4653,db-2.example:5653,[::1]:6653,10.0.0.1:4653/"))
                .containsExactly(
                        new MemberAddress("10.0.0.1", 4653),
                        new MemberAddress("db-2.example", 5653),
                        new MemberAddress("::1", 6653));
    }

    @Test
    void aMemberWithoutAPortUsesTheDefaultClientPort() {
        assertThat(HoldfastProvider.members("holdfast://localhost"))
                .containsExactly(new MemberAddress("localhost", 4653));
        assertThat(new MemberAddress("::1", 4653).toString()).isEqualTo("[::1]:4653");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "holdfast://",
                "holdfast:///",
                "holdfast://host:0",
                "holdfast://host:65536",
                "holdfast://host:-1",
                "holdfast://host:http",
                "holdfast://host:",
                "holdfast://:4653",
                "holdfast://a:1,,b:2",
                "holdfast://a:1,",
                "holdfast://::1:4653",
                "holdfast://[::1:4653",
                "holdfast://[::1]x",
                "holdfast://a b:4653",
                "holdfast://user@host:4653",
                "holdfast://host:4653/path",
                "holdfast://host:4653?tls=true"
            })
    void malformedUrisAreRefusedNamingTheUri(String uri) {
        assertThatThrownBy(() -> HoldfastProvider.members(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(uri.length() > 12 ? uri.substring(11) : "holdfast://");
    }

    @Test
    void theProviderIsFoundByItsScheme() {
        assertThat(new HoldfastProvider().accepts("holdfast://h:1")).isTrue();
        assertThat(new HoldfastProvider().accepts("mem:")).isFalse();
        assertThatThrownBy(() -> LockClient.open("holdfast://host:99999"))
                .as("found through ServiceLoader, and validating before any I/O")
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("65535");
    }

    @Test
    void theServerProviderPromisesEveryCapability() {
        assertThat(HoldfastProvider.CAPABILITIES).containsExactlyInAnyOrder(io.holdfast.Capability.values());
    }
}
