package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.ClientOptions;
import io.holdfast.LockClient;
import io.holdfast.WatchTarget;
import io.holdfast.internal.ChangeFeed;
import io.holdfast.internal.PollingFeed;
import io.holdfast.testkit.FakeTicker;
import io.holdfast.testkit.ManualScheduler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A polling watch measures how long a read waits for a change with the client's ticker, so that a
 * test in virtual time moves it instead of sleeping: each wakeup here moves the ticker by the pause
 * the feed asked for, and a read that waits one second ends after ten of them.
 */
class PollingFeedTickerTest {
    private final FakeTicker ticker = new FakeTicker();

    @Test
    void aReadThatFindsNoChangeEndsWhenTheTickerPassedItsWait() throws Exception {
        Path base = Files.createDirectories(Path.of("target", "provider-tests")).toAbsolutePath();
        String uri = Files.createTempDirectory(base, "ticker-")
                .resolve("store")
                .toUri()
                .toString();
        ClientOptions virtual = ClientOptions.builder()
                .ticker(ticker)
                .scheduler(new ManualScheduler(ticker))
                .build();
        AtomicInteger wakeups = new AtomicInteger();
        try (LockClient client = LockClient.open(uri, virtual)) {
            PollingFeed feed = new PollingFeed(
                    client,
                    (target, maxNanos) -> {
                        wakeups.incrementAndGet();
                        ticker.advance(Duration.ofNanos(maxNanos));
                    },
                    ticker);
            WatchTarget target = WatchTarget.register("polled");
            ChangeFeed.Page state = feed.read(target, null, Duration.ZERO);

            ChangeFeed.Page quiet = feed.read(target, state.next(), Duration.ofSeconds(1));

            assertThat(quiet.events()).isEmpty();
            assertThat(wakeups)
                    .as("one wakeup per %s of the second", PollingFeed.INTERVAL)
                    .hasValue(10);
        }
    }
}
