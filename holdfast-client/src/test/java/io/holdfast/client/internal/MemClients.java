package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.client.MemProvider;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;

/** Clients of an in-process node, on the real clock (see {@link VirtualClients} for virtual time). */
final class MemClients {
    private MemClients() {}

    /** A {@code mem:} client of {@code node} called {@code clientName}, with default options besides. */
    static ClientRuntime named(LocalNode node, String clientName) {
        return ClientRuntime.open(
                "mem",
                new LocalTransport(node),
                ClientOptions.builder().clientName(clientName).build(),
                MemProvider.CAPABILITIES);
    }
}
