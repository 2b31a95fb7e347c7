package io.holdfast.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.protocol.TlsFiles;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HoldfastProviderTest {
    /** Asserts that {@code call} is refused as an invalid argument whose message has {@code fragment}. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertRefused(
            ThrowingCallable call, String fragment) {
        return assertThatThrownBy(call)
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(fragment);
    }

    @Test
    void plaintextGoesOverFramesUnlessTheUriAsksForGrpcAndTlsOverGrpc() {
        assertThat(HoldfastProvider.frames("holdfast://h:4653")).isTrue();
        assertThat(HoldfastProvider.frames("holdfast://h:4653,g:4653?tls=false"))
                .isTrue();
        assertThat(HoldfastProvider.frames("holdfast://h:4656?transport=frames"))
                .isTrue();
        assertThat(HoldfastProvider.frames("holdfast://h:4653?transport=grpc")).isFalse();
        assertThat(HoldfastProvider.frames("holdfast://h:4653?tls=true")).isFalse();
        assertThat(HoldfastProvider.frames("holdfast://h:4653?ca=ca.pem")).isFalse();
        assertThat(HoldfastProvider.frames("holdfast://h:4653?token=abc&tls=true"))
                .isFalse();
        assertRefused(() -> HoldfastProvider.frames("holdfast://h:4653?token=abc"), "only sent over TLS");
        assertThat(HoldfastProvider.frames("holdfast://h:4653?transport=grpc&tls=true"))
                .isFalse();
        assertRefused(() -> HoldfastProvider.frames("holdfast://h:4653?transport=quic"), "transport is grpc or frames");
        assertRefused(() -> HoldfastProvider.frames("holdfast://h:4656?transport=frames&tls=true"), "plaintext only");
        assertRefused(() -> HoldfastProvider.frames("holdfast://h:4656?transport=frames&transport=grpc"), "repeated");
    }

    @Test
    void theUrisConnectTimeoutIsADurationWithinTheOptionsRangeAndSecretsStayOutOfMessages() {
        assertThat(HoldfastProvider.connectTimeout("holdfast://h:4653")).isNull();
        assertThat(HoldfastProvider.connectTimeout("holdfast://h:4653,g:4653?connectTimeout=2s&transport=grpc"))
                .isEqualTo(java.time.Duration.ofSeconds(2));
        assertThat(HoldfastProvider.connectTimeout("holdfast://h:4653?connectTimeout=250ms"))
                .isEqualTo(java.time.Duration.ofMillis(250));
        assertRefused(
                () -> HoldfastProvider.connectTimeout("holdfast://h:4653?connectTimeout=5"),
                "connectTimeout='5': the number 5 has no unit; expected a duration");
        assertRefused(
                () -> HoldfastProvider.connectTimeout("holdfast://h:4653?connectTimeout=50ms"),
                "not within 100ms..10m");
        assertRefused(
                () -> HoldfastProvider.connectTimeout("holdfast://h:4653?connectTimeout=1s&connectTimeout=2s"),
                "repeated");
        assertRefused(
                        () -> HoldfastProvider.frames("holdfast://h:4656?transport=frames&token=s3cr3t&tls=true"),
                        "plaintext only")
                .hasMessageNotContaining("s3cr3t");
    }

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
                "holdfast://host:4653/path?tls=true"
            })
    void malformedUrisAreRefusedNamingTheUri(String uri) {
        assertRefused(() -> HoldfastProvider.members(uri), uri.length() > 12 ? uri.substring(11) : "holdfast://");
    }

    @Test
    void tlsComesFromTheUriParameters() {
        assertThat(HoldfastProvider.tls("holdfast://h:1")).isNull();
        assertThat(HoldfastProvider.tls("holdfast://h:1?tls=false")).isNull();
        assertThat(HoldfastProvider.tls("holdfast://h:1?tls=true")).isEqualTo(new TlsFiles(null, null, null));
        assertThat(HoldfastProvider.tls("holdfast://h:1,h:2?ca=/c/ca.pem&cert=/c/my%20app.pem&key=/c/k.pem"))
                .isEqualTo(new TlsFiles(Path.of("/c/my app.pem"), Path.of("/c/k.pem"), Path.of("/c/ca.pem")));
        assertThat(HoldfastProvider.members("holdfast://h:1,h:2?ca=/c/ca.pem"))
                .containsExactly(new MemberAddress("h", 1), new MemberAddress("h", 2));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "holdfast://h:1?",
                "holdfast://h:1?ca",
                "holdfast://h:1?ca=",
                "holdfast://h:1?trust=/x",
                "holdfast://h:1?ca=/a&ca=/b",
                "holdfast://h:1?cert=/c.pem",
                "holdfast://h:1?tls=yes",
                "holdfast://h:1?tls=false&ca=/a"
            })
    void badTlsParametersAreRefused(String uri) {
        assertThatThrownBy(() -> HoldfastProvider.tls(uri)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> LockClient.open(uri))
                .as("before any connection")
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void callsFirstMakesTheFirstMemberListedTheHomeAndABadValueIsRefused() {
        for (int i = 0; i < 20; i++) {
            try (var t = HoldfastProvider.transport(
                    "holdfast://127.0.0.1:9003,127.0.0.1:9001,127.0.0.1:9002?calls=first",
                    java.time.Duration.ofSeconds(1))) {
                assertThat(t.target()).isEqualTo(MemberAddress.parse("127.0.0.1:9003", false));
            }
        }
        assertThat(HoldfastProvider.followsLeader("holdfast://h:1?calls=first")).isFalse();
        assertThat(HoldfastProvider.followsLeader("holdfast://h:1?calls=leader"))
                .isTrue();
        assertRefused(() -> LockClient.open("holdfast://h:1?calls=nearest"), "calls is home, first or leader");
    }

    @Test
    void missingTlsFilesAreRefusedBeforeAnyConnection() {
        assertRefused(
                () -> LockClient.open("holdfast://127.0.0.1:1?ca=/no/such/ca.pem"), "/no/such/ca.pem does not exist");
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
    void renewSessionsIsTrueOrFalseInTheUriAndAbsentUnlessSaid() {
        assertThat(HoldfastProvider.renewSessions("holdfast://h:1")).isNull();
        assertThat(HoldfastProvider.renewSessions("holdfast://h:1?renewSessions=false"))
                .isFalse();
        assertThat(HoldfastProvider.renewSessions("holdfast://h:1?sessionTtl=3s&renewSessions=true"))
                .isTrue();
        assertThatThrownBy(() -> HoldfastProvider.renewSessions("holdfast://h:1?renewSessions=no"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("renewSessions is true or false in a holdfast URI, not 'no'");
        assertThatThrownBy(
                        () -> HoldfastProvider.renewSessions("holdfast://h:1?renewSessions=false&renewSessions=true"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("repeated");
    }

    @Test
    void theServerProviderPromisesEveryCapability() {
        assertThat(HoldfastProvider.CAPABILITIES).containsExactlyInAnyOrder(io.holdfast.Capability.values());
    }
}
