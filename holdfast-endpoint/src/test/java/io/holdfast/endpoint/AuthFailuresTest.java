package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.PermissionDeniedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AuthFailures} through {@link Authenticator}: each refusal counted under its reason, one
 * WARN line per client and reason a minute (then a count), never the token.
 */
class AuthFailuresTest {
    private static final byte[] SECRET =
            "0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private long now;
    private final AuthFailures failures = new AuthFailures(() -> now);
    private final Authenticator authenticator =
            new Authenticator(Tokens.withSecret(SECRET), true, jti -> jti.equals("gone"), failures);
    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                logged.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final Logger root = Logger.getLogger("");

    @BeforeEach
    void record() {
        root.addHandler(recorder);
    }

    @AfterEach
    void stopRecording() {
        root.removeHandler(recorder);
    }

    private void refused(String authorization, String from) {
        assertThatThrownBy(() -> authenticator.identify(authorization, null, from))
                .isInstanceOf(PermissionDeniedException.class);
    }

    /** The lines' messages (JUL's adapter puts the key=value pairs in front). */
    private List<String> lines() {
        return logged.stream()
                .filter(r -> r.getLoggerName().equals(AuthFailures.class.getName()))
                .map(LogRecord::getMessage)
                .toList();
    }

    @Test
    void eachReasonIsCountedApart() {
        String expired = Tokens.withSecret(SECRET, Clock.fixed(Instant.now().minusSeconds(3600), ZoneOffset.UTC))
                .issue("alice", Duration.ofMinutes(1));
        String forged = Tokens.withSecret(new byte[32]).issue("alice", Duration.ofMinutes(1));
        refused("Bearer not-a-token", "10.0.0.1");
        refused("Basic YWxpY2U6cHc=", "10.0.0.1");
        refused("Bearer " + expired, "10.0.0.1");
        refused("Bearer " + forged, "10.0.0.1");
        authenticator.noCredentials("10.0.0.1");
        failures.refusedCertificate("CN=mallory", "PKIX path building failed");

        assertThat(failures.counts())
                .containsEntry("bad-token", 2L)
                .containsEntry("expired-token", 1L)
                .containsEntry("bad-signature", 1L)
                .containsEntry("no-credentials", 1L)
                .containsEntry("refused-certificate", 1L)
                .containsEntry("unknown-key", 0L)
                .containsEntry("revoked-token", 0L);
        assertThat(lines()).hasSize(5).noneMatch(l -> l.contains(expired) || l.contains(forged));
        assertThat(lines())
                .anySatisfy(l -> assertThat(l)
                        .contains("Refused authentication from 10.0.0.1 as alice (expired-token): the bearer token of"
                                + " alice expired at"));
    }

    @Test
    void aClientThatKeepsFailingIsOneLineAMinuteWithACount() {
        for (int s = 0; s < 60; s++) {
            now = TimeUnit.SECONDS.toNanos(s);
            refused("Bearer garbage", "10.0.0.1");
            refused("Bearer garbage", "10.0.0.2");
        }
        assertThat(lines()).hasSize(2);
        now = TimeUnit.SECONDS.toNanos(60);
        refused("Bearer garbage", "10.0.0.1");
        assertThat(lines())
                .last()
                .asString()
                .endsWith("Still refusing authentication from 10.0.0.1 (bad-token): 60 in the last 60s (last: the"
                        + " bearer token is not a JWT)");
        assertThat(failures.count(AuthFailures.Reason.BAD_TOKEN)).isEqualTo(121);
    }

    /**
     * Two identities refused from one address (one NAT, one node, one CI runner) are each said: a
     * token whose signature passed names its identity, and its lines are its own.
     */
    @Test
    void eachIdentityRefusedFromOneAddressIsSaid() {
        Authenticator denying = new Authenticator(Tokens.withSecret(SECRET), true, jti -> true, failures);
        for (String who : List.of("app", "billing", "app", "billing")) {
            String token = Tokens.withSecret(SECRET).issue(who, Duration.ofMinutes(5));
            assertThatThrownBy(() -> denying.identify("Bearer " + token, null, "127.0.0.1"))
                    .isInstanceOf(PermissionDeniedException.class);
        }
        refused("Bearer garbage", "127.0.0.1");
        refused("Bearer more-garbage", "127.0.0.1");

        assertThat(failures.count(AuthFailures.Reason.REVOKED_TOKEN)).isEqualTo(4);
        assertThat(lines())
                .as("one line per identity and reason; unverified tokens name nobody, one line for the address")
                .hasSize(3)
                .anySatisfy(l -> assertThat(l).contains("from 127.0.0.1 as app (revoked-token)"))
                .anySatisfy(l -> assertThat(l).contains("from 127.0.0.1 as billing (revoked-token)"))
                .anySatisfy(l -> assertThat(l).contains("from 127.0.0.1 (bad-token)"));
    }

    @Test
    void aRevokedTokenIsItsOwnReason() {
        String token = Tokens.withSecret(SECRET).issue("alice", Duration.ofMinutes(5));
        Authenticator denying = new Authenticator(Tokens.withSecret(SECRET), true, jti -> true, failures);
        assertThatThrownBy(() -> denying.identify("Bearer " + token, null, "10.0.0.3"))
                .isInstanceOf(PermissionDeniedException.class)
                .hasMessageContaining("is revoked");
        assertThat(failures.count(AuthFailures.Reason.REVOKED_TOKEN)).isEqualTo(1);
    }
}
