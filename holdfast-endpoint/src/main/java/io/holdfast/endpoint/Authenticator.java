package io.holdfast.endpoint;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.holdfast.ErrorCode;
import io.holdfast.PermissionDeniedException;
import io.holdfast.protocol.GrpcErrors;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.function.Predicate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is calling: a gRPC interceptor that gives every call the identity its client proved, before
 * the service sees it.
 *
 * <ul>
 *   <li>A call with {@code authorization: Bearer TOKEN} is the token's identity, if {@link Tokens}
 *       accepts it and its {@code jti} is not on the cluster's deny list ({@code holdfast token
 *       revoke}); a bad, expired or revoked token ends the call with {@code UNAUTHENTICATED} at
 *       once, even if the connection also has a client certificate.
 *   <li>Otherwise, on a TLS connection whose client presented a certificate (the TLS handshake
 *       already checked that the server's CA signed it), the certificate's subject common name.
 *   <li>Otherwise the call is unauthenticated: refused with {@code UNAUTHENTICATED} when
 *       authentication is required, else served with no identity.
 * </ul>
 *
 * The identity reaches the service through {@link #IDENTITY}. Refusals carry the error code
 * {@code PERMISSION_DENIED}, so that clients raise {@link PermissionDeniedException}, and each is
 * counted and logged by its reason ({@link AuthFailures}), once a minute at most per client and
 * reason, never with the token.
 */
public final class Authenticator implements ServerInterceptor {
    /** The identity of the current call; null when unauthenticated. */
    public static final Context.Key<String> IDENTITY = Context.key("holdfast-identity");

    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private static final ServerCall.Listener<Object> NOTHING = new ServerCall.Listener<>() {};

    private final Tokens tokens;
    private final boolean required;
    private final Predicate<String> revoked;
    private final AuthFailures failures;

    /**
     * @param tokens verifies bearer tokens; null to refuse every token
     * @param required whether calls without an identity are refused
     */
    public Authenticator(Tokens tokens, boolean required) {
        this(tokens, required, jti -> false, new AuthFailures(io.holdfast.Ticker.system()));
    }

    /**
     * @param tokens verifies bearer tokens; null to refuse every token
     * @param required whether calls without an identity are refused
     * @param revoked whether a token id ({@code jti}) is on the deny list: read from this node's
     *     replica of the table at each call
     * @param failures where refusals are counted and logged: the node's one, shared by its ports
     */
    public Authenticator(Tokens tokens, boolean required, Predicate<String> revoked, AuthFailures failures) {
        this.tokens = tokens;
        this.required = required;
        this.revoked = revoked;
        this.failures = failures;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <Q, A> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String from = host(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        String identity;
        try {
            identity = identify(
                    headers.get(AUTHORIZATION), call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION), from);
        } catch (PermissionDeniedException e) {
            refuse(call, e.getMessage());
            return (ServerCall.Listener<Q>) NOTHING;
        }
        if (identity == null && required) {
            noCredentials(from);
            refuse(call, "this server requires authentication: a client certificate or a bearer token");
            return (ServerCall.Listener<Q>) NOTHING;
        }
        return Contexts.interceptCall(Context.current().withValue(IDENTITY, identity), call, headers, next);
    }

    /**
     * As {@link #identify(String, SSLSession)}, and a refusal is counted and logged ({@link
     * AuthFailures}) as coming from {@code from}.
     *
     * @param from the client's host, as {@link #host} gives it
     */
    public String identify(String authorization, SSLSession session, String from) {
        try {
            return identify(authorization, session);
        } catch (RefusedCredentials e) {
            failures.refused(e.reason(), from, e.identity(), e.getMessage());
            throw e;
        }
    }

    /** Counts and logs a call without credentials that this server requires ({@link #required()}). */
    public void noCredentials(String from) {
        failures.refused(
                AuthFailures.Reason.NO_CREDENTIALS,
                from,
                "no client certificate and no bearer token, which this server requires");
    }

    /** The host of a client's address, without its port (each connection has its own); {@code unknown} if none. */
    public static String host(java.net.SocketAddress address) {
        if (address instanceof java.net.InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return address == null ? "unknown" : address.toString();
    }

    /** Whether requests without an identity are refused. */
    public boolean required() {
        return required;
    }

    /**
     * The identity a request proves: its bearer token's subject if it has an {@code authorization}
     * header, else its client certificate's common name, else null. Shared by every port that
     * authenticates (gRPC here, the HTTP API).
     *
     * @param authorization the request's {@code authorization} header, or null
     * @param session the request's TLS session, or null over plaintext
     * @throws PermissionDeniedException for a header that is not a valid bearer token
     */
    public String identify(String authorization, SSLSession session) {
        if (authorization != null) {
            if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw RefusedCredentials.badToken("the authorization header is not 'Bearer TOKEN'");
            }
            if (tokens == null) {
                throw RefusedCredentials.badToken(
                        "this server accepts no bearer tokens (it has no token secret or JWKS)");
            }
            Tokens.Verified token = tokens.check(authorization.substring(7).strip());
            if (token.jti() != null && revoked.test(token.jti())) {
                throw new RefusedCredentials(
                        AuthFailures.Reason.REVOKED_TOKEN,
                        token.identity(),
                        "the bearer token of " + token.identity() + " (jti " + token.jti() + ") is revoked");
            }
            return token.identity();
        }
        return certificateName(session);
    }

    /** The common name of the client certificate of a TLS session, or null if it has none. */
    static String certificateName(SSLSession session) {
        if (session == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException none) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            return null;
        }
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    String cn = rdn.getValue().toString();
                    return cn.isEmpty() || cn.length() > 256 ? null : cn;
                }
            }
        } catch (InvalidNameException e) {
            return null;
        }
        return null;
    }

    private static void refuse(ServerCall<?, ?> call, String why) {
        Metadata trailers = new Metadata();
        trailers.put(GrpcErrors.ERROR_CODE, ErrorCode.PERMISSION_DENIED.name());
        call.close(Status.UNAUTHENTICATED.withDescription(why), trailers);
    }
}
