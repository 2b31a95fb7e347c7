package io.holdfast.endpoint;

import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import io.holdfast.endpoint.frame.FrameServer;
import io.holdfast.protocol.frame.FrameChannel;
import java.util.function.UnaryOperator;

/**
 * Every test of {@link HoldfastGrpcServiceTest}, with the calls carried over frames ({@link
 * FrameServer}, {@link FrameChannel}) on loopback instead of gRPC in-process: the same answers,
 * statuses, trailers and event streams.
 */
class HoldfastGrpcServiceOverFramesTest extends HoldfastGrpcServiceTest {
    @Override
    ManagedChannel connect(ServerServiceDefinition definition) {
        FrameServer server = FrameServer.start("127.0.0.1", 0, definition, UnaryOperator.identity(), 1 << 20);
        serving(server);
        return new FrameChannel("127.0.0.1", server.port(), 16 << 20);
    }
}
