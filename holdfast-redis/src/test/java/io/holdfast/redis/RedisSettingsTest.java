package io.holdfast.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RedisSettingsTest {
    @Test
    void aPlainUriHasTheDefaults() {
        RedisSettings s = RedisSettings.parse("redis://localhost");
        RedisURI uri = s.redisUri();
        assertThat(uri.getHost()).isEqualTo("localhost");
        assertThat(uri.getPort()).isEqualTo(6379);
        assertThat(uri.getDatabase()).isZero();
        assertThat(uri.isSsl()).isFalse();
        assertThat(s.prefix()).isEqualTo("holdfast:");
        assertThat(s.display()).isEqualTo("redis://localhost:6379/0");
    }

    @Test
    void portDatabasePrefixAndCredentialsAreRead() {
        RedisSettings s = RedisSettings.parse("redis://app:s%40cret@10.0.0.7:7000/3?prefix=orders%3A");
        RedisURI uri = s.redisUri();
        assertThat(uri.getHost()).isEqualTo("10.0.0.7");
        assertThat(uri.getPort()).isEqualTo(7000);
        assertThat(uri.getDatabase()).isEqualTo(3);
        RedisCredentials credentials = credentials(uri);
        assertThat(credentials.getUsername()).isEqualTo("app");
        assertThat(new String(credentials.getPassword())).isEqualTo("s@cret");
        assertThat(s.prefix()).isEqualTo("orders:");
        assertThat(s.display()).as("no credentials in messages").isEqualTo("redis://10.0.0.7:7000/3");
    }

    @Test
    void aPasswordAloneIsAPassword() {
        RedisCredentials credentials =
                credentials(RedisSettings.parse("redis://:pw@host").redisUri());
        assertThat(credentials.hasUsername()).isFalse();
        assertThat(new String(credentials.getPassword())).isEqualTo("pw");
    }

    private static RedisCredentials credentials(RedisURI uri) {
        return uri.getCredentialsProvider().resolveCredentials().block();
    }

    @Test
    void redissMeansTlsWithFullVerificationUnlessToldOtherwise() {
        assertThat(RedisSettings.parse("rediss://cache.example.com:6380")
                        .redisUri()
                        .isSsl())
                .isTrue();
        assertThat(RedisSettings.parse("rediss://cache.example.com:6380")
                        .redisUri()
                        .getVerifyMode())
                .isEqualTo(SslVerifyMode.FULL);
        assertThat(RedisSettings.parse("rediss://h?verifyPeer=none").redisUri().getVerifyMode())
                .isEqualTo(SslVerifyMode.NONE);
    }

    @Test
    void acceptsOnlyItsSchemes() {
        assertThat(RedisSettings.accepts("redis://h")).isTrue();
        assertThat(RedisSettings.accepts("REDISS://h")).isTrue();
        assertThat(RedisSettings.accepts("holdfast://h")).isFalse();
        assertThat(RedisSettings.accepts("redis-sentinel://h")).isFalse();
        assertThat(RedisSettings.accepts(null)).isFalse();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "redis://                          | no host",
                "redis://host:99999                | port",
                "redis://host/abc                  | database number",
                "redis://host/1/2                  | database number",
                "redis://host?prefix=              | prefix",
                "redis://host?colour=blue          | unknown option 'colour'",
                "redis://host?prefix=a&prefix=b    | given twice",
                "redis://host?prefix               | name=value",
                "redis://host?verifyPeer=none      | rediss",
                "rediss://host?verifyPeer=maybe    | verifyPeer must be",
                "redis://host#frag                 | fragment",
                "redis://ho st                     | malformed redis URI",
                "redis://host?prefix=%zz           | malformed redis URI",
                "holdfast://host                   | redis://"
            })
    void aMalformedUriIsRefusedNamingWhatIsWrong(String uri, String expected) {
        assertThatThrownBy(() -> RedisSettings.parse(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("malformed redis URI")
                .hasMessageContaining(expected);
    }

    @Test
    void passwordsNeverAppearInMessages() {
        assertThatThrownBy(() -> RedisSettings.parse("redis://user:topsecret@host/x"))
                .isInstanceOf(InvalidArgumentException.class)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("topsecret"));
    }
}
