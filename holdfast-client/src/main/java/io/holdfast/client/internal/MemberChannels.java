package io.holdfast.client.internal;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.holdfast.InvalidArgumentException;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.protocol.frame.FrameChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * How a {@link ClusterTransport} makes the channel to a member: gRPC over HTTP/2 (Netty, plaintext
 * or TLS, with a bearer token over TLS), or the same calls over frames ({@link FrameChannel}:
 * length-prefixed frames over plaintext TCP, the default for plaintext {@code holdfast://}).
 *
 * <p><b>Guarantees.</b> Every channel made by one instance is made the same way, for the members
 * given at the start and for those learnt from leader hints later. The credentials are checked
 * once, when the instance is made ({@link #netty}), so a bad TLS file or token fails the client's
 * creation with one line naming it, never a later call. Answers are read on the channel's I/O
 * thread ({@code directExecutor}); whatever runs there must only complete futures and update
 * state. A token is never part of a {@code toString}.
 *
 * <p><b>Does not guarantee</b> that a channel connects: making one opens no connection; the first
 * call does, and fails with {@code UNAVAILABLE} ("connection refused") if nothing listens.
 */
final class MemberChannels {
    /** The largest message a channel accepts. */
    static final int MAX_INBOUND_BYTES = 16 * 1024 * 1024;

    private final Function<MemberAddress, ManagedChannel> factory;

    private MemberChannels(Function<MemberAddress, ManagedChannel> factory) {
        this.factory = factory;
    }

    /**
     * gRPC over HTTP/2 (Netty).
     *
     * @param tls the TLS files to connect with, or null for plaintext
     * @param token a bearer token sent with every call (TLS only), or null
     * @throws InvalidArgumentException if a TLS file is missing or is not PEM, or a token is given
     *     without TLS (it would cross the network in the clear)
     */
    static MemberChannels netty(TlsFiles tls, String token) {
        if (token != null && tls == null) {
            throw new InvalidArgumentException("a bearer token is only sent over TLS (add ca=FILE or tls=true)");
        }
        ChannelCredentials credentials;
        try {
            ChannelCredentials channel = tls == null ? null : tls.channelCredentials();
            credentials = token == null ? channel : CompositeChannelCredentials.create(channel, new BearerToken(token));
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage(), e);
        }
        return new MemberChannels(address -> nettyChannel(address, credentials));
    }

    /** The same calls over frames to each member's frame port, which its address names. */
    static MemberChannels frames() {
        return new MemberChannels(a -> new FrameChannel(a.host(), a.port(), MAX_INBOUND_BYTES));
    }

    /** A new channel to this member; connects on its first call. */
    ManagedChannel open(MemberAddress address) {
        return factory.apply(address);
    }

    private static ManagedChannel nettyChannel(MemberAddress address, ChannelCredentials credentials) {
        NettyChannelBuilder builder = credentials == null
                ? NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext()
                : NettyChannelBuilder.forAddress(address.host(), address.port(), credentials);
        return builder
                // Answers are handled on the I/O thread that read them, not handed to a pool:
                // a hop per call costs a context switch (measured: about a quarter of the
                // client's CPU). What runs there only completes futures and updates state; the
                // runtime hands everything that runs caller code to its callback threads.
                .directExecutor()
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .maxInboundMessageSize(MAX_INBOUND_BYTES)
                .build();
    }

    /** Sends {@code authorization: Bearer TOKEN} with every call. */
    static final class BearerToken extends CallCredentials {
        private static final Metadata.Key<String> AUTHORIZATION =
                Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        private final String token;

        BearerToken(String token) {
            if (token.isBlank() || !token.chars().allMatch(c -> c > 32 && c < 127)) {
                throw new InvalidArgumentException("a bearer token is printable ASCII without spaces");
            }
            this.token = token;
        }

        @Override
        public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
            Metadata headers = new Metadata();
            headers.put(AUTHORIZATION, "Bearer " + token);
            applier.apply(headers);
        }

        @Override
        public String toString() {
            return "BearerToken[...]"; // never the token
        }
    }
}
