package io.holdfast.redis;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce's event loops and timers, shared by every Redis client of this JVM (a process with 64
 * clients should not run 64 sets of threads), and shut down when the last client closes.
 */
final class SharedResources {
    private static ClientResources resources;
    private static int users;

    private SharedResources() {}

    static synchronized ClientResources acquire() {
        if (users++ == 0) {
            int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
            resources = DefaultClientResources.builder()
                    .ioThreadPoolSize(threads)
                    .computationThreadPoolSize(threads)
                    // Reconnect soon after Redis is back (Lettuce's default backs off to 30 s).
                    .reconnectDelay(
                            Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS))
                    .build();
        }
        return resources;
    }

    static synchronized void release() {
        if (users > 0 && --users == 0) {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            resources = null;
        }
    }
}
