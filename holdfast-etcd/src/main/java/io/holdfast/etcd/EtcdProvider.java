package io.holdfast.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import io.holdfast.spi.LockProvider;
import io.holdfast.store.StoreLockClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code etcd://} provider: Holdfast locks over an etcd v3 cluster (3.4 or newer).
 *
 * <p>URI: {@code etcd://host[:port][,host[:port]...][?namespace=N&user=U&password=P]}, port 2379 by
 * default. Every member listed is used by the driver (jetcd), which fails over between them.
 * {@code namespace} is the key prefix of every lock (default {@code holdfast/locks/}); clients
 * share locks only within one namespace. {@code user} and {@code password} authenticate when etcd
 * has authentication on. {@code etcds://host:port?ca=FILE[&cert=FILE&key=FILE]} reaches the
 * members over TLS: {@code ca} is the PEM file of the CA that signed their certificates (the JVM's
 * trusted CAs without it), {@code cert} and {@code key} this client's certificate and PKCS#8 key
 * when etcd asks for client certificates ({@code --client-cert-auth}).
 *
 * <p><b>What it guarantees.</b> Mutual exclusion as long as etcd is healthy: every grant is decided
 * from etcd's linearizable store, and the holder's key is attached to an etcd lease, so a crashed
 * holder's locks come back after its session TTL by etcd's clock. Waiters queue in etcd by
 * revision, first come first served, and wake by watch, not by polling. Fencing tokens are etcd
 * revisions: they grow with every grant across all names and survive restarts of etcd. Read-write
 * locks, semaphores, lease timeouts, inspection and fencing checks are supported.
 *
 * <p><b>Validity.</b> A lease on the client's session is valid only while etcd cannot have
 * expired the client's etcd lease: the TTL etcd reported, counted from the sending of the latest
 * keep-alive (or the grant) it acknowledged, less a margin of a tenth of the TTL for clock rate
 * drift, on the client's injected {@link io.holdfast.Ticker}. Once that moment passes, every lease
 * of the client is reported lost ({@code isValid()} reads false, callbacks run), before etcd can
 * expire the etcd lease and grant its locks to others. A lease with a lease timeout lives on its
 * own etcd lease, renewed by the client's watchdog, and is bounded by that expiry as well.
 *
 * <p><b>What it does not.</b> No lock-delay, no deadlock detection, no revoke. Like any lease-based
 * lock, a holder that pauses (GC, SIGSTOP) past its TTL is told only when it runs again: use the
 * fencing token with the resource.
 *
 * <p><b>A failure story.</b> etcd's only member is paused (SIGSTOP, a stalled disk) while a client
 * holds {@code jobs/a}. No keep-alive is answered; a tenth of the TTL before etcd could expire the
 * client's etcd lease, the lease reads invalid, its callbacks run, and the client asks etcd to
 * revoke the etcd lease. When etcd runs again it expires the lease (or takes the revoke), and only
 * then is a waiter granted, with a larger token. If etcd is restarted instead and is back within
 * the TTL, the lease (which etcd persists and refreshes after a restart) and the lock are still
 * there and nothing is lost.
 */
public final class EtcdProvider implements LockProvider {
    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public boolean accepts(String uri) {
        return EtcdUri.accepts(uri);
    }

    /**
     * Connects to etcd and opens a session (an etcd lease with the session TTL).
     *
     * @throws InvalidArgumentException if the URI is malformed, naming what is wrong
     * @throws io.holdfast.UnsupportedFeatureException for a lock-delay
     * @throws UnavailableException if etcd does not answer within the connect timeout
     */
    @Override
    public LockClient open(String uri, ClientOptions options) {
        if (options == null) {
            throw new InvalidArgumentException("options must not be null");
        }
        EtcdUri parsed = EtcdUri.parse(uri);
        io.netty.handler.ssl.SslContext ssl = parsed.tls() ? tls(parsed, uri) : null; // a bad file first
        probe(parsed, uri, options.connectTimeout());
        ClientBuilder builder = Client.builder()
                .endpoints(parsed.endpoints().toArray(String[]::new))
                .connectTimeout(options.connectTimeout())
                .waitForReady(false);
        if (ssl != null) {
            builder.sslContext(ssl);
        }
        if (parsed.user() != null) {
            builder.user(ByteSequence.from(parsed.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(parsed.password(), StandardCharsets.UTF_8));
        }
        Client client;
        try {
            client = builder.build();
        } catch (RuntimeException e) {
            throw new InvalidArgumentException(
                    "the etcd client cannot be built for " + EtcdUri.redacted(uri) + ": " + e.getMessage(), e);
        }
        EtcdBackend backend;
        try {
            backend = new EtcdBackend(client, parsed, options);
        } catch (RuntimeException e) {
            client.close();
            if (e instanceof UnavailableException u) {
                throw new UnavailableException(
                        "cannot reach etcd at " + EtcdUri.redacted(uri) + ": " + u.getMessage(), u);
            }
            throw e;
        }
        return new StoreLockClient(backend, options);
    }

    /** The client's TLS settings from the URI's files, each checked to exist and to parse. */
    private static io.netty.handler.ssl.SslContext tls(EtcdUri parsed, String uri) {
        for (String file : java.util.Arrays.asList(parsed.ca(), parsed.cert(), parsed.key())) {
            if (file != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
                throw new InvalidArgumentException(
                        "the TLS file " + file + " of " + EtcdUri.redacted(uri) + " does not exist or cannot be read");
            }
        }
        try {
            io.netty.handler.ssl.SslContextBuilder b = io.netty.handler.ssl.SslContextBuilder.forClient()
                    .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
                            io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
                            io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            "h2"));
            if (parsed.ca() != null) {
                b.trustManager(new java.io.File(parsed.ca()));
            }
            if (parsed.cert() != null) {
                b.keyManager(new java.io.File(parsed.cert()), new java.io.File(parsed.key()));
            }
            return b.build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new InvalidArgumentException(
                    "the TLS files of " + EtcdUri.redacted(uri) + " cannot be used: "
                            + io.holdfast.internal.Causes.deepest(e).getMessage(),
                    e);
        }
    }

    /**
     * Fails at once, naming why, when no member accepts a TCP connection: jetcd itself retries an
     * unreachable endpoint until the call's deadline and then reports only a timeout, hiding the
     * "connection refused" that the reader needs. One member that accepts is enough to go on.
     */
    private static void probe(EtcdUri parsed, String uri, java.time.Duration connectTimeout) {
        List<String> hostPorts = new ArrayList<>();
        for (String endpoint : parsed.endpoints()) {
            java.net.URI u = java.net.URI.create(endpoint);
            hostPorts.add(u.getHost() + ":" + u.getPort());
        }
        String none = io.holdfast.internal.Reachability.noneAccepts(hostPorts, connectTimeout);
        if (none != null) {
            throw new UnavailableException("cannot reach etcd at " + EtcdUri.redacted(uri) + ": " + none);
        }
    }
}
