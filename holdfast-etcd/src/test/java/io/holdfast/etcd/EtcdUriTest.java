package io.holdfast.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EtcdUriTest {
    @Test
    void oneHostWithItsPort() {
        EtcdUri uri = EtcdUri.parse("etcd://127.0.0.1:2379");
        assertThat(uri.endpoints()).containsExactly("http://127.0.0.1:2379");
        assertThat(uri.namespace()).isEqualTo(EtcdUri.DEFAULT_NAMESPACE);
        assertThat(uri.user()).isNull();
    }

    @Test
    void severalMembersAndTheDefaultPort() {
        EtcdUri uri = EtcdUri.parse("etcd://a.example:1,b,[::1]:3/");
        assertThat(uri.endpoints()).containsExactly("http://a.example:1", "http://b:2379", "http://[::1]:3");
    }

    @Test
    void options() {
        EtcdUri uri = EtcdUri.parse("etcd://h:2379?namespace=apps%2Flocks%2F&user=u&password=p%26w");
        assertThat(uri.namespace()).isEqualTo("apps/locks/");
        assertThat(uri.user()).isEqualTo("u");
        assertThat(uri.password()).isEqualTo("p&w");
    }

    @Test
    void acceptsOnlyItsSchemes() {
        assertThat(EtcdUri.accepts("etcd://h")).isTrue();
        assertThat(EtcdUri.accepts("ETCD://h")).isTrue();
        assertThat(EtcdUri.accepts("etcds://h")).isTrue();
        assertThat(EtcdUri.accepts("redis://h")).isFalse();
        assertThat(EtcdUri.accepts(null)).isFalse();
    }

    @Test
    void tlsTakesItsFilesAndOnlyWithEtcds() {
        EtcdUri u = EtcdUri.parse("etcds://h:2379,g?ca=/c/ca.pem&cert=/c/me.pem&key=/c/me-key.pem");
        assertThat(u.tls()).isTrue();
        assertThat(u.endpoints()).containsExactly("https://h:2379", "https://g:2379");
        assertThat(u.ca()).isEqualTo("/c/ca.pem");
        assertThat(u.cert()).isEqualTo("/c/me.pem");
        assertThat(u.key()).isEqualTo("/c/me-key.pem");
        assertThat(EtcdUri.parse("etcd://h").endpoints()).containsExactly("http://h:2379");
        assertThatThrownBy(() -> EtcdUri.parse("etcd://h:2379?ca=/c/ca.pem"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("etcds://");
        assertThatThrownBy(() -> EtcdUri.parse("etcds://h:2379?cert=/c/me.pem"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("cert and key go together");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "etcd://",
                "etcd://h:0",
                "etcd://h:70000",
                "etcd://h:port",
                "etcd://h:1,,g:2",
                "etcd://h/path",
                "etcd://user@h",
                "etcd://h?colour=blue",
                "etcd://h?namespace=",
                "etcd://h?user=u",
                "etcd://h?namespace=a&namespace=b",
                "etcd://h?novalue",
                "etcd://[::1",
                "etcd://bad host",
                "http://h"
            })
    void malformedUrisAreRefusedNamingTheProblem(String uri) {
        assertThatThrownBy(() -> EtcdUri.parse(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageNotContaining("null");
    }

    @Test
    void passwordsAreNotRepeatedInMessages() {
        assertThatThrownBy(() -> EtcdUri.parse("etcd://h?password=secret&colour=x"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageNotContaining("secret");
        assertThat(EtcdUri.redacted("etcd://h?user=u&password=secret")).isEqualTo("etcd://h?user=u&password=***");
        assertThat(List.of(EtcdUri.redacted("etcd://h"))).containsExactly("etcd://h");
    }
}
