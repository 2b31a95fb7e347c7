package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every public entry point of the API validates its input with a typed, clear error. */
class ApiValidationTest {

    @Test
    void namesFollowTheRules() {
        assertThat(Names.check("orders/42")).isEqualTo("orders/42");
        assertThat(Names.check("ü".repeat(256))).hasSize(256); // 512 bytes of UTF-8: the limit
        assertThatThrownBy(() -> Names.check(null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> Names.check("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Names.check("ü".repeat(256) + "x")).hasMessageContaining("513 bytes");
        assertThatThrownBy(() -> Names.check("a\nb")).hasMessageContaining("U+000A");
        assertThatThrownBy(() -> Names.check("a\uD800b")).hasMessageContaining("surrogate");
        assertThatThrownBy(() -> Names.check("a\uDC00")).hasMessageContaining("surrogate");
        assertThat(Names.check("emoji \uD83D\uDD12")).endsWith("\uD83D\uDD12");
    }

    @Test
    void acquireOptionsRefuseNegativeAndAbsurdDurations() {
        assertThat(AcquireOptions.tryOnce().waitTime()).isZero();
        assertThat(AcquireOptions.waitUpTo(Duration.ofSeconds(3)).leaseTimeout())
                .isNull();
        assertThat(AcquireOptions.waitUpTo(Duration.ofSeconds(3))
                        .withLeaseTimeout(Duration.ofSeconds(1))
                        .leaseTimeout())
                .isEqualTo(Duration.ofSeconds(1));
        assertThatThrownBy(() -> AcquireOptions.waitUpTo(Duration.ofMillis(-1)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> AcquireOptions.waitUpTo(Duration.ofDays(2)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> AcquireOptions.waitUpTo(null)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> AcquireOptions.tryOnce().withLeaseTimeout(Duration.ofMillis(99)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> AcquireOptions.tryOnce().withLeaseTimeout(Duration.ofDays(2)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThat(AcquireOptions.waitUpTo(Duration.ofSeconds(1)))
                .isEqualTo(AcquireOptions.waitUpTo(Duration.ofSeconds(1)))
                .hasSameHashCodeAs(AcquireOptions.waitUpTo(Duration.ofSeconds(1)));
    }

    @Test
    void clientOptionsAreBounded() {
        ClientOptions d = ClientOptions.defaults();
        assertThat(d.sessionTtl()).isEqualTo(Duration.ofSeconds(10));
        assertThat(d.clientName()).contains("@");
        assertThatThrownBy(() -> ClientOptions.builder().sessionTtl(Duration.ofMillis(999)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().sessionTtl(Duration.ofMinutes(11)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().lockDelay(Duration.ofSeconds(61)))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().clientName(" ")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().requestTimeout(Duration.ZERO))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ClientOptions.builder().scheduler(null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("scheduler");
        assertThatThrownBy(() -> ClientOptions.builder().callbackExecutor(null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("callbackExecutor");
        assertThat(d.scheduler()).isEmpty();
        assertThat(d.callbackExecutor()).isEmpty();
        java.util.concurrent.ScheduledExecutorService timers =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
        java.util.concurrent.Executor callbacks = Runnable::run;
        try {
            ClientOptions changed =
                    d.toBuilder().clientName("me").scheduler(timers).callbackExecutor(callbacks).build().toBuilder()
                            .build();
            assertThat(changed.clientName()).isEqualTo("me");
            assertThat(changed.sessionTtl()).isEqualTo(d.sessionTtl());
            assertThat(changed.scheduler()).containsSame(timers);
            assertThat(changed.callbackExecutor()).containsSame(callbacks);
        } finally {
            timers.shutdown();
        }
    }

    @Test
    void aClientThatCannotSimulateACrashSaysSo() {
        assertThatThrownBy(() -> io.holdfast.internal.CrashSimulation.crash(null))
                .isInstanceOf(UnsupportedFeatureException.class)
                .hasMessageContaining("cannot simulate a crash");
    }

    @Test
    void retryBackoffGrowsIsCappedAndJittered() {
        RetryPolicy p =
                new RetryPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.5, 5, Duration.ofSeconds(10));
        assertThat(p.delayBefore(1, () -> 0.0)).isEqualTo(Duration.ofMillis(100));
        assertThat(p.delayBefore(2, () -> 0.0)).isEqualTo(Duration.ofMillis(200));
        assertThat(p.delayBefore(3, () -> 0.0)).isEqualTo(Duration.ofMillis(400));
        assertThat(p.delayBefore(10, () -> 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.delayBefore(1000, () -> 0.0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.delayBefore(2, () -> 0.999)).isBetween(Duration.ofMillis(100), Duration.ofMillis(101));
        assertThat(p.allowsAnother(4, Duration.ofSeconds(1))).isTrue();
        assertThat(p.allowsAnother(5, Duration.ofSeconds(1))).isFalse();
        assertThat(p.allowsAnother(1, Duration.ofSeconds(10))).isFalse();
        assertThat(RetryPolicy.none().allowsAnother(1, Duration.ZERO)).isFalse();
        assertThatThrownBy(() -> p.delayBefore(0, () -> 0.0)).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(Duration.ZERO, Duration.ofSeconds(1), 2, 0, 3, Duration.ZERO))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(5), 2, 0, 3, Duration.ZERO))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() ->
                        new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(50), Double.NaN, 0, 3, Duration.ZERO))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(
                        () -> new RetryPolicy(Duration.ofMillis(10), Duration.ofMillis(50), 2, 1.5, 3, Duration.ZERO))
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void everyErrorCodeBuildsItsOwnExceptionType() {
        for (ErrorCode code : ErrorCode.values()) {
            RuntimeException e = code.toException("detail");
            assertThat(e).hasMessage("detail");
            assertThat(((HasErrorCode) e).code()).isEqualTo(code);
        }
        assertThat(ErrorCode.LOCK_LOST.toException("x")).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(ErrorCode.NOT_OWNER.toException("x")).isInstanceOf(IllegalMonitorStateException.class);
        assertThat(new DeadlockException("d", List.of("a", "b")).cycle()).containsExactly("a", "b");
        assertThat(new ConflictException("c", 7).currentVersion()).isEqualTo(7);
    }

    @Test
    void openingAnUnknownSchemeSaysWhichProvidersExist() {
        assertThatThrownBy(() -> LockClient.open("nosuch://x"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no provider")
                .hasMessageContaining("nosuch://x");
        assertThatThrownBy(() -> LockClient.open(" ")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> LockClient.open("mem:", null)).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void versionedValuesAreCopiedAndComparedByContent() {
        byte[] bytes = {1, 2, 3};
        Versioned v = new Versioned("k", 2, bytes);
        bytes[0] = 9;
        assertThat(v.value()).containsExactly(1, 2, 3);
        v.value()[1] = 9;
        assertThat(v.value()).containsExactly(1, 2, 3);
        assertThat(v).isEqualTo(new Versioned("k", 2, new byte[] {1, 2, 3}));
        assertThat(v).isNotEqualTo(new Versioned("k", 3, new byte[] {1, 2, 3}));
        assertThat(v.toString()).contains("v2").contains("010203");
    }
}
