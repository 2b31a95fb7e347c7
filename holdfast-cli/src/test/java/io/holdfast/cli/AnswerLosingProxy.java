package io.holdfast.cli;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gRPC proxy on loopback in front of one member: it passes every call on as bytes, except that
 * the answer to one method is lost once the member has given it. The caller sees the call fail as
 * a broken connection does ({@code UNAVAILABLE}, no Holdfast error code), with the member's
 * outcome unknown to it, as when a leader that removed itself stopped before its answer left.
 */
final class AnswerLosingProxy implements AutoCloseable {
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private final ManagedChannel upstream;
    private final Server server;
    private final String lose;
    private final AtomicInteger lost = new AtomicInteger();

    /**
     * @param member the member's client address (host:port)
     * @param lose the full name of the method whose answers are lost ({@code holdfast.v1.Holdfast/ChangeMembers})
     */
    AnswerLosingProxy(String member, String lose) throws IOException {
        this.lose = lose;
        this.upstream = NettyChannelBuilder.forTarget(member).usePlaintext().build();
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .fallbackHandlerRegistry(new HandlerRegistry() {
                    @Override
                    public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                        MethodDescriptor<byte[], byte[]> d = MethodDescriptor.newBuilder(BYTES, BYTES)
                                .setFullMethodName(method)
                                .setType(MethodDescriptor.MethodType.UNKNOWN)
                                .build();
                        return ServerMethodDefinition.create(d, new Forward(d));
                    }
                })
                .build()
                .start();
    }

    /** The proxy's address, to give the client instead of the member's. */
    String address() {
        return "127.0.0.1:" + server.getPort();
    }

    /** How many answers were lost. */
    int lost() {
        return lost.get();
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        upstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** One call passed on: requests up, answers down, or lost for the method named. */
    private final class Forward implements ServerCallHandler<byte[], byte[]> {
        private final MethodDescriptor<byte[], byte[]> method;

        Forward(MethodDescriptor<byte[], byte[]> method) {
            this.method = method;
        }

        @Override
        public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> down, Metadata headers) {
            boolean losing = method.getFullMethodName().equals(lose);
            ClientCall<byte[], byte[]> up = upstream.newCall(method, CallOptions.DEFAULT);
            up.start(
                    new ClientCall.Listener<>() {
                        @Override
                        public void onHeaders(Metadata h) {
                            if (!losing) {
                                down.sendHeaders(h);
                            }
                        }

                        @Override
                        public void onMessage(byte[] message) {
                            if (!losing) {
                                down.sendMessage(message);
                            }
                            up.request(1);
                        }

                        @Override
                        public void onClose(Status status, Metadata trailers) {
                            if (losing) {
                                lost.incrementAndGet();
                                down.close(Status.UNAVAILABLE.withDescription("the connection broke"), new Metadata());
                            } else {
                                down.close(status, trailers);
                            }
                        }
                    },
                    headers);
            up.request(1);
            down.request(1);
            return new ServerCall.Listener<>() {
                @Override
                public void onMessage(byte[] message) {
                    up.sendMessage(message);
                    down.request(1);
                }

                @Override
                public void onHalfClose() {
                    up.halfClose();
                }

                @Override
                public void onCancel() {
                    up.cancel("the caller went away", null);
                }
            };
        }
    }
}
