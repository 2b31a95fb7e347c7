package io.holdfast.client;

import io.holdfast.endpoint.ClientPort;
import io.holdfast.node.LocalNode;
import io.holdfast.node.LocalTransport;
import io.holdfast.testkit.LockProviderContract;
import io.holdfast.testkit.ProviderFixture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The provider contract suite through the whole network path: {@code holdfast://} clients,
 * ClusterTransport, a real gRPC server on loopback, HoldfastGrpcService, and an in-process lock table
 * (a {@link LocalNode}: the real table, not replicated) behind it. The Raft-backed service runs the
 * same suite in holdfast-server.
 */
class GrpcOverLocalNodeContractTest extends LockProviderContract {
    private static ClientPort server;
    private static String uri;

    @BeforeAll
    static void startServer() {
        server = ClientPort.start("127.0.0.1", 0, new LocalTransport(LocalNode.named("grpc-test")));
        uri = "holdfast://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    private static final ProviderFixture FIXTURE = new ClientFixture(() -> uri, HoldfastProvider.CAPABILITIES);

    @Override
    protected ProviderFixture fixture() {
        return FIXTURE;
    }
}
