package io.holdfast.cli;

import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.RetryPolicy;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code holdfast revoke NAME}: takes every grant of a lock away from its holders (an operator's
 * last resort for a stuck holder). Each holder is told it lost the lock, its fencing token stops
 * being current, and the next waiter is granted with a larger token. On the Holdfast server with
 * access control, it needs the {@code revoke} verb on the name, and it is audited.
 */
@Command(
        name = "revoke",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        description = {
            "Take every grant of lock NAME away from its holders; they are told, and fenced out by their tokens.",
            "Exit code: 0 (also when nothing was held); 69 backend unavailable (no leader within --timeout); 64 usage error or a backend that"
                    + " cannot revoke; 77 not allowed."
        })
final class RevokeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME", description = "The lock or semaphore.")
    String name;

    @Mixin
    ServerCalls cluster;

    /** Opens a client and revokes, again while no member can serve it, for up to {@code --timeout}. */
    @Override
    public Integer call() throws InterruptedException {
        Duration within = cluster.timeout();
        RetryPolicy d = RetryPolicy.defaults();
        ClientOptions options = ClientOptions.builder()
                .retryPolicy(new RetryPolicy(
                        d.initialDelay(), d.maxDelay(), d.multiplier(), d.jitter(), d.maxAttempts(), within))
                .build();
        int revoked;
        try {
            revoked = ServerCalls.retrying(within, ServerCalls::noLeader, attempt -> {
                try (LockClient client = Backends.open(cluster.uri(), options)) {
                    return client.admin().revoke(name);
                }
            });
        } catch (InvalidArgumentException e) {
            throw new CliFailure(ExitCodes.USAGE, e.getMessage(), e);
        }
        return Main.printed(
                spec,
                revoked == 0
                        ? name + " was not held: nothing revoked"
                        : "Revoked " + revoked + " grant" + (revoked == 1 ? "" : "s") + " of " + name
                                + "; the holders are told and their tokens are no longer current.");
    }
}
