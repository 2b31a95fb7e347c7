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
        assertThat(RedisSettings.accepts("redis-sentinel://h")).isTrue();
        assertThat(RedisSettings.accepts("redis-cluster://h")).isTrue();
        assertThat(RedisSettings.accepts("rediss-cluster://h")).isFalse();
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

    @Test
    void aSentinelUriNamesEverySentinelTheMasterAndTheDatabase() {
        RedisSettings s = RedisSettings.parse(
                "redis-sentinel://app:s%40cret@10.0.0.1,10.0.0.2:26380,[::1]:26381/2?master=orders&prefix=o%3A");
        RedisURI uri = s.redisUri();
        assertThat(s.sentinel()).isTrue();
        assertThat(uri.getSentinelMasterId()).isEqualTo("orders");
        assertThat(uri.getSentinels())
                .extracting(RedisURI::getHost, RedisURI::getPort)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("10.0.0.1", 26379),
                        org.assertj.core.groups.Tuple.tuple("10.0.0.2", 26380),
                        org.assertj.core.groups.Tuple.tuple("::1", 26381));
        assertThat(uri.getDatabase()).isEqualTo(2);
        assertThat(new String(credentials(uri).getPassword())).isEqualTo("s@cret");
        assertThat(s.prefix()).isEqualTo("o:");
        assertThat(s.display())
                .as("no credentials in messages")
                .isEqualTo("redis-sentinel://10.0.0.1:26379,10.0.0.2:26380,[::1]:26381/2?master=orders");
        assertThat(RedisSettings.parse("redis://h").sentinel()).isFalse();
    }

    @Test
    void theSentinelsOwnPasswordIsKeptApartFromRedissOwn() {
        RedisURI uri = RedisSettings.parse("redis-sentinel://:data@h1,h2?master=m&sentinelPassword=guard")
                .redisUri();
        assertThat(new String(credentials(uri).getPassword())).isEqualTo("data");
        for (RedisURI sentinel : uri.getSentinels()) {
            assertThat(new String(credentials(sentinel).getPassword())).isEqualTo("guard");
        }
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "redis-sentinel://h1,h2                        | it names no master",
                "redis-sentinel://h1?master=                   | it names no master",
                "redis-sentinel://?master=m                    | it names no Sentinel host",
                "redis-sentinel://h1,,h2?master=m              | '' is not a Sentinel host",
                "redis-sentinel://h1:99999?master=m            | port 99999",
                "redis-sentinel://h1/x?master=m                | must be a database number",
                "redis-sentinel://h1?master=m&verifyPeer=full  | unknown option 'verifyPeer'",
                "redis-sentinel://h1#m                         | name the master with ?master=NAME",
            })
    void aBadSentinelUriNamesWhatIsWrong(String uri, String why) {
        assertThatThrownBy(() -> RedisSettings.parse(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(why.strip());
    }

    @Test
    void aSentinelUriWithAPasswordNeverShowsIt() {
        assertThatThrownBy(() -> RedisSettings.parse("redis-sentinel://:hunter2@h1?master=m&bogus=1"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void grantsWaitForOneReplicaThroughSentinelsAndForNoneOtherwiseUnlessTold() {
        assertThat(RedisSettings.parse("redis-sentinel://h?master=m").replicas())
                .isEqualTo(1);
        assertThat(RedisSettings.parse("redis-sentinel://h?master=m&replicas=0").replicas())
                .isZero();
        assertThat(RedisSettings.parse("redis://h").replicas()).isZero();
        assertThat(RedisSettings.parse("rediss://h?replicas=2").replicas()).isEqualTo(2);
        for (String bad : new String[] {"-1", "17", "x", "", "1.5"}) {
            assertThatThrownBy(() -> RedisSettings.parse("redis://h?replicas=" + bad))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("replicas must be a number from 0 to 16");
        }
    }

    @Test
    void aClusterUriNamesSomeNodesAndThePrefix() {
        RedisSettings s =
                RedisSettings.parse("redis-cluster://app:s%40cret@10.0.0.1,10.0.0.2:7001,[::1]:7002?prefix=o:");
        assertThat(s.cluster()).isTrue();
        assertThat(s.sentinel()).isFalse();
        assertThat(s.clusterNodes())
                .extracting(RedisURI::getHost, RedisURI::getPort)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("10.0.0.1", 6379),
                        org.assertj.core.groups.Tuple.tuple("10.0.0.2", 7001),
                        org.assertj.core.groups.Tuple.tuple("::1", 7002));
        for (RedisURI node : s.clusterNodes()) {
            assertThat(credentials(node).getUsername()).isEqualTo("app");
            assertThat(new String(credentials(node).getPassword())).isEqualTo("s@cret");
        }
        assertThat(s.prefix()).isEqualTo("o:");
        assertThat(s.replicas()).isZero();
        assertThat(RedisSettings.parse("redis-cluster://h?replicas=1").replicas())
                .isEqualTo(1);
        assertThat(s.display())
                .as("no credentials in messages")
                .isEqualTo("redis-cluster://10.0.0.1:6379,10.0.0.2:7001,[::1]:7002");
        assertThat(RedisSettings.parse("redis-cluster://h/0").cluster()).isTrue();
        assertThat(RedisSettings.parse("redis://h").cluster()).isFalse();
        assertThat(RedisSettings.accepts("REDIS-CLUSTER://h")).isTrue();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "redis-cluster://                       | it names no cluster node host",
                "redis-cluster://h1,,h2                 | '' is not a cluster node host",
                "redis-cluster://h1:0                   | port 0",
                "redis-cluster://h1/1                   | a Redis Cluster has only database 0, not /1",
                "redis-cluster://h1?prefix=a{b}:        | must not contain '{' or '}'",
                "redis-cluster://h1?prefix=a}           | must not contain '{' or '}'",
                "redis-cluster://h1?replicas=17         | replicas must be a number from 0 to 16",
                "redis-cluster://h1?master=m            | unknown option 'master'",
                "redis-cluster://h1#x                   | a fragment",
            })
    void aBadClusterUriNamesWhatIsWrong(String uri, String why) {
        assertThatThrownBy(() -> RedisSettings.parse(uri))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(why.strip());
    }

    @Test
    void aClusterUriWithAPasswordNeverShowsIt() {
        assertThatThrownBy(() -> RedisSettings.parse("redis-cluster://app:hunter2@h1,h2?bogus=1"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("unknown option 'bogus'")
                .hasMessageNotContaining("hunter2");
        assertThat(RedisSettings.parse("redis-cluster://app:hunter2@h1,h2").display())
                .doesNotContain("hunter2");
    }
}
