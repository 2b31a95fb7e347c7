package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.client.MemProvider;
import io.holdfast.model.LockService;
import io.holdfast.testkit.ManualScheduler;
import java.util.function.UnaryOperator;

/** Clients in virtual time: the ticker and the timers are a test's {@link ManualScheduler}'s. */
final class VirtualClients {
    private VirtualClients() {}

    /** A {@code mem:} client over the transport, with the scheduler's clock and these options besides. */
    static ClientRuntime open(
            LockService transport, ManualScheduler timers, UnaryOperator<ClientOptions.Builder> options) {
        return ClientRuntime.open(
                "mem",
                transport,
                options.apply(ClientOptions.builder().ticker(timers.ticker()).scheduler(timers))
                        .build(),
                MemProvider.CAPABILITIES);
    }
}
