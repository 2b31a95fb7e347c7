package io.holdfast.endpoint;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.holdfast.endpoint.frame.FrameServer;
import io.holdfast.model.LockService;
import io.holdfast.protocol.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The client port: one {@link HoldfastGrpcService} served on one address, over gRPC (Netty) and, in
 * plaintext, over frames too.
 *
 * <p>With TLS ({@link TlsFiles}) the port is the gRPC server's and speaks gRPC over TLS only. In
 * plaintext it is a {@link FrameServer}'s: it answers connections that start with the frames
 * preface (the default of {@code holdfast://} clients) itself, and splices every other connection,
 * byte for byte, to the gRPC server, which then listens on an automatic loopback port. Both serve
 * the same service definition, interceptors included, so a call, its status, its trailers and its
 * event stream are the same over either.
 *
 * <pre>{@code
 * try (ClientPort server = ClientPort.start("0.0.0.0", 4653, lockService)) {
 *     ...                                          // server.port() is the bound port (for port 0)
 * }
 * }</pre>
 *
 * Calls are handled on gRPC's I/O threads ({@code directExecutor}): the backend's methods must
 * return at once, as {@link LockService} requires, and never block.
 *
 * <p>Requests are limited to {@value #MAX_INBOUND_BYTES} bytes (a register value is at most 64 KiB).
 * Clients may ping every {@code 5 s} to keep idle event streams alive through middleboxes, and the
 * server pings silent clients so that a dead client's event stream ends and its subscription is
 * dropped. {@link #close()} ends the event streams with {@code UNAVAILABLE} (so clients reconnect at
 * once), lets unary calls in flight finish for up to a second, then cuts the rest. It does not close
 * the lock service.
 */
public final class ClientPort implements AutoCloseable {
    /** The largest request the server accepts. */
    public static final int MAX_INBOUND_BYTES = 1024 * 1024;

    /** Where a plaintext port's gRPC server listens, behind the frames. */
    private static final String LOOPBACK = "127.0.0.1";

    private static final long GRACE_MILLIS = 1_000;

    private final Server server;
    private final FrameServer frames; // null with TLS
    private final UnparsableRequests unparsable;
    private final HoldfastGrpcService service;
    private final io.grpc.ServerServiceDefinition definition;
    private final String host;
    private final int port;

    private ClientPort(
            Server server,
            FrameServer frames,
            HoldfastGrpcService service,
            io.grpc.ServerServiceDefinition definition,
            String host,
            UnparsableRequests unparsable) {
        this.server = server;
        this.unparsable = unparsable;
        this.frames = frames;
        this.service = service;
        this.definition = definition;
        this.host = host;
        this.port = frames != null ? frames.port() : grpcPort(server);
    }

    private static int grpcPort(Server server) {
        return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    /**
     * Starts serving.
     *
     * @param host the address to listen on ({@code 0.0.0.0} for all, {@code 127.0.0.1} for loopback)
     * @param port the port, or 0 for any free port
     * @throws UncheckedIOException naming the address if the server cannot listen there; when the
     *     port is taken, its cause is the {@link BindException}
     */
    public static ClientPort start(String host, int port, LockService backend) {
        return start(host, port, backend, null, TlsFiles.ClientAuth.NONE);
    }

    /**
     * Starts serving, over TLS when {@code tls} is given: then plaintext connections are refused
     * (their handshake fails), and clients present certificates signed by {@code tls}'s CA as
     * {@code clientAuth} says.
     *
     * @param tls this server's certificate, key and trusted CA, or null for plaintext
     * @throws IllegalArgumentException if a TLS file is missing or is not PEM
     * @throws UncheckedIOException as {@link #start(String, int, LockService)}
     */
    public static ClientPort start(
            String host, int port, LockService backend, TlsFiles tls, TlsFiles.ClientAuth clientAuth) {
        return start(host, port, backend, tls, clientAuth, null);
    }

    /**
     * Starts serving as {@link #start(String, int, LockService, TlsFiles, TlsFiles.ClientAuth)},
     * with every call passing {@code authenticator} first (null: no identities, every call
     * anonymous).
     */
    public static ClientPort start(
            String host,
            int port,
            LockService backend,
            TlsFiles tls,
            TlsFiles.ClientAuth clientAuth,
            Authenticator authenticator) {
        return start(host, port, backend, tls, clientAuth, authenticator, null);
    }

    /**
     * Starts serving as {@link #start(String, int, LockService, TlsFiles, TlsFiles.ClientAuth,
     * Authenticator)}, counting and logging in {@code failures} each client certificate that the
     * TLS handshake refuses (null: not counted).
     */
    public static ClientPort start(
            String host,
            int port,
            LockService backend,
            TlsFiles tls,
            TlsFiles.ClientAuth clientAuth,
            Authenticator authenticator,
            AuthFailures failures) {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
        }
        HoldfastGrpcService service = new HoldfastGrpcService(backend);
        InetSocketAddress address =
                tls == null ? new InetSocketAddress(LOOPBACK, 0) : new InetSocketAddress(host, port);
        NettyServerBuilder builder = tls == null
                ? NettyServerBuilder.forAddress(address)
                : NettyServerBuilder.forAddress(
                        address,
                        tls.serverCredentials(clientAuth, failures == null ? null : failures::refusedCertificate));
        // The caller's trace first (the last interceptor named runs first), then its identity.
        ServerTracing tracing = ServerTracing.global();
        io.grpc.ServerServiceDefinition definition = authenticator == null
                ? ServerInterceptors.intercept(service, tracing)
                : ServerInterceptors.intercept(service, authenticator, tracing);
        UnparsableRequests unparsable = new UnparsableRequests(System::nanoTime, 1, TimeUnit.MINUTES);
        Server server = builder.addService(unparsable.guard(definition))
                // Calls run on the transport's I/O threads, not on a pool: the backend returns
                // futures at once, and each hop to a pool thread costs a context switch per call
                // (on 2 cores, the largest single CPU cost of a request; see docs/benchmarks-e2e.md).
                .directExecutor()
                .maxInboundMessageSize(MAX_INBOUND_BYTES)
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true)
                .keepAliveTime(30, TimeUnit.SECONDS)
                .keepAliveTimeout(10, TimeUnit.SECONDS)
                .build();
        try {
            server.start();
        } catch (IllegalArgumentException e) {
            server.shutdownNow();
            throw new IllegalArgumentException("the TLS files " + tls + " are not usable: " + e.getMessage(), e);
        } catch (IOException e) {
            server.shutdownNow();
            BindException bind = bindException(e);
            String where = host + ":" + port;
            if (bind != null) {
                throw new UncheckedIOException("cannot listen on " + where + ": port " + port + " is in use", bind);
            }
            throw new UncheckedIOException("cannot listen on " + where + ": " + e.getMessage(), e);
        }
        if (tls != null) {
            return new ClientPort(server, null, service, definition, host, unparsable);
        }
        try {
            FrameServer frames = FrameServer.start(
                    host,
                    port,
                    definition,
                    UnaryOperator.identity(), // a leader's client port speaks frames too
                    MAX_INBOUND_BYTES,
                    FrameServer.MAX_QUEUED_BYTES,
                    new InetSocketAddress(LOOPBACK, grpcPort(server)));
            return new ClientPort(server, frames, service, definition, host, unparsable);
        } catch (RuntimeException e) {
            server.shutdownNow();
            throw e;
        }
    }

    /**
     * The bind failure inside a start failure. Netty's native transport reports it as its own
     * IOException ("bind(..) failed ... Address already in use"), so that one is made a {@link
     * BindException} here.
     */
    private static BindException bindException(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof BindException b) {
                return b;
            }
            if (c.getMessage() != null && c.getMessage().contains("Address already in use")) {
                BindException b = new BindException(c.getMessage());
                b.initCause(c);
                return b;
            }
        }
        return null;
    }

    /** The port the server listens on. */
    public int port() {
        return port;
    }

    /** The address clients use, as {@code host:port}. */
    public String address() {
        return host + ":" + port();
    }

    /** The service as this server serves it, interceptors included (over gRPC and frames alike). */
    public io.grpc.ServerServiceDefinition definition() {
        return definition;
    }

    /**
     * Requests refused because their body was not the method's message, over gRPC and frames
     * since this server started (each answered {@code INVALID_ARGUMENT}; see {@link
     * UnparsableRequests}).
     */
    public long unparsableRequests() {
        return unparsable.count() + (frames == null ? 0 : frames.unparsableRequests());
    }

    /** The service, for counters and tests. */
    public HoldfastGrpcService service() {
        return service;
    }

    /** Stops serving; see the class comment. Idempotent; restores the interrupt flag if interrupted. */
    @Override
    public void close() {
        if (server.isTerminated() && (frames == null || frames.isClosed())) {
            return;
        }
        // No new gRPC calls; then end the streams (over gRPC and frames alike), which would
        // otherwise never finish. Spliced gRPC connections need the frame server's thread until
        // gRPC has told them to go, so frames close last; their calls in flight are cancelled
        // (their clients see UNAVAILABLE and send the same invocation again elsewhere).
        server.shutdown();
        service.endAllStreams();
        try {
            if (!server.awaitTermination(GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(GRACE_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            if (frames != null) {
                frames.close();
            }
        }
    }

    @Override
    public String toString() {
        return "ClientPort[" + address() + (server.isShutdown() ? ", closed]" : "]");
    }
}
