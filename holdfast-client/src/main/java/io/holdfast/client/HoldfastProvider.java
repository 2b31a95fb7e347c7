package io.holdfast.client;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.client.internal.ClusterTransport;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.internal.Redaction;
import io.holdfast.internal.UriDurations;
import io.holdfast.protocol.TlsFiles;
import io.holdfast.spi.LockProvider;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code holdfast://} provider: a client of the Holdfast server.
 *
 * <p>URIs name one or more members of the cluster, in any order; the client finds the leader by
 * itself and follows it when it moves: {@code holdfast://10.0.0.1:4653,10.0.0.2:4653,10.0.0.3:4653}.
 * A member without a port uses {@value MemberAddress#DEFAULT_PORT}; IPv6 addresses go in brackets
 * ({@code holdfast://[::1]:4653}). One member is enough to reach a cluster whose members name their
 * leader, but a client given all of them survives the loss of any.
 *
 * <p>The connection is plaintext unless the URI names TLS files: {@code
 * holdfast://10.0.0.1:4653?ca=certs/ca.pem&cert=certs/client.pem&key=certs/client-key.pem} checks
 * each server's certificate against the CA (and its host name against the certificate) and
 * presents this client's certificate; see {@link #tls(String)}.
 *
 * <p>In plaintext the calls go over frames ({@link io.holdfast.protocol.frame.Frames}: the gRPC
 * service's messages in length-prefixed frames over TCP, without HTTP/2), which a plaintext node's
 * client port speaks beside gRPC; with TLS, or {@code transport=grpc}, over gRPC. See {@link
 * #frames(String)}.
 *
 * <p>{@link LockClient#open} returns once a member has opened the session, or fails with {@link
 * io.holdfast.UnavailableException} within {@link ClientOptions#connectTimeout()}: members that
 * refuse the connection or have no leader are tried again with the retry policy's backoff until
 * then, and the message names each member and why it could not serve ("127.0.0.1:4653:
 * connection refused"). {@code ?connectTimeout=2s} in the URI sets that bound for this client
 * ({@link #connectTimeout(String)}).
 *
 * <p>The client outlives its sessions (ADR 0004): when one is lost it opens the next, unless the
 * options or {@code ?renewSessions=false} in the URI ({@link #renewSessions(String)}) say not to.
 */
public final class HoldfastProvider implements LockProvider {
    private static final String SCHEME = "holdfast://";

    /** Everything: the server replicates its table with Raft. */
    public static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.allOf(Capability.class));

    @Override
    public String name() {
        return "holdfast";
    }

    @Override
    public boolean accepts(String uri) {
        return uri != null && uri.startsWith(SCHEME);
    }

    @Override
    public LockClient open(String uri, ClientOptions options) {
        Duration connectTimeout = connectTimeout(uri);
        if (connectTimeout != null) {
            options = options.toBuilder().connectTimeout(connectTimeout).build();
        }
        Duration sessionTtl = sessionTtl(uri);
        if (sessionTtl != null) {
            options = options.toBuilder().sessionTtl(sessionTtl).build();
        }
        Boolean renew = renewSessions(uri);
        if (renew != null) {
            options = options.toBuilder().renewSessions(renew).build();
        }
        ClusterTransport transport = transport(uri, options.requestTimeout());
        try {
            String target = String.join(
                    ",", members(uri).stream().map(MemberAddress::toString).toList());
            return ClientRuntime.open("holdfast", target, transport, options, CAPABILITIES);
        } catch (RuntimeException | Error e) {
            transport.close();
            throw e;
        }
    }

    /**
     * The transport to the members a {@code holdfast://} URI names, over frames or gRPC as {@link
     * #frames(String)} decides, each call with the deadline {@code callTimeout}.
     *
     * @throws InvalidArgumentException as {@link #members}, {@link #tls}, {@link #token} and {@link
     *     #frames}
     */
    public static ClusterTransport transport(String uri, java.time.Duration callTimeout) {
        java.util.random.RandomGenerator home =
                followsLeader(uri) ? null : "first".equals(calls(uri)) ? FIRST_LISTED : new java.util.Random();
        return frames(uri)
                ? ClusterTransport.overFrames(members(uri), callTimeout, home)
                : new ClusterTransport(members(uri), callTimeout, tls(uri), token(uri), home);
    }

    /** Picks the first member listed as the home: {@code calls=first}. */
    private static final java.util.random.RandomGenerator FIRST_LISTED = () -> 0L;

    /**
     * Whether a {@code holdfast://} URI's client sends its calls to the leader ({@code
     * calls=leader}, as clients did before members served sessions) rather than to a home member:
     * one it picks at random among those the URI names ({@code calls=home}, the default; ADR 0003)
     * or the first one it names ({@code calls=first}: a member near the client, or a test that
     * places its clients); a home moves to another member only when it fails the client.
     *
     * @throws InvalidArgumentException for another value, and as {@link #tls}
     */
    public static boolean followsLeader(String uri) {
        return "leader".equals(calls(uri));
    }

    /** The {@code calls} parameter of a URI: {@code home} (the default), {@code first} or {@code leader}. */
    private static String calls(String uri) {
        String value = parameter(uri, "calls");
        if (value != null && !value.equals("home") && !value.equals("leader") && !value.equals("first")) {
            throw new InvalidArgumentException("calls is home, first or leader in a holdfast URI, not '" + value + "'");
        }
        return value == null ? "home" : value;
    }

    /**
     * The members a {@code holdfast://} URI names.
     *
     * @throws InvalidArgumentException naming the URI and what is wrong with it
     */
    public static List<MemberAddress> members(String uri) {
        if (uri == null || !uri.startsWith(SCHEME)) {
            throw new InvalidArgumentException("holdfast URIs start with " + SCHEME + ", not " + Redaction.uri(uri));
        }
        String rest = uri.substring(SCHEME.length());
        int query = rest.indexOf('?');
        if (query >= 0) {
            rest = rest.substring(0, query);
        }
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        if (rest.indexOf('#') >= 0 || rest.indexOf('/') >= 0) {
            throw new InvalidArgumentException(
                    "holdfast URIs look like holdfast://host:port[,host:port...][?ca=FILE&cert=FILE&key=FILE], not "
                            + Redaction.uri(uri));
        }
        if (rest.isBlank()) {
            throw new InvalidArgumentException(
                    "a holdfast URI names at least one member (host:port): " + Redaction.uri(uri));
        }
        List<MemberAddress> members = new ArrayList<>();
        for (String part : rest.split(",", -1)) {
            try {
                MemberAddress a = MemberAddress.parse(part, true);
                if (!members.contains(a)) {
                    members.add(a);
                }
            } catch (InvalidArgumentException e) {
                throw new InvalidArgumentException("bad member in " + Redaction.uri(uri) + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(members);
    }

    /**
     * The TLS settings of a {@code holdfast://} URI, or null for plaintext: {@code ca} (the CA
     * certificate that signed the servers'; without it the JVM's trust store decides), {@code
     * cert} and {@code key} (this client's certificate and key, for servers that ask for one), and
     * {@code tls=true} for TLS with none of these. Values are URL-encoded paths.
     *
     * @throws InvalidArgumentException naming an unknown or repeated parameter, a certificate
     *     without its key, or {@code tls=false} beside TLS files
     */
    public static TlsFiles tls(String uri) {
        members(uri); // the same checks of the scheme and the members
        int query = uri.indexOf('?');
        if (query < 0) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : uri.substring(query + 1).split("&", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new InvalidArgumentException("a parameter of a holdfast URI is name=value, not '" + pair + "'");
            }
            String name = pair.substring(0, eq);
            if (!PARAMETERS.contains(name)) {
                throw new InvalidArgumentException(
                        "unknown parameter '" + name + "' in a holdfast URI; known: " + PARAMETERS);
            }
            String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (value.isEmpty() || params.put(name, value) != null) {
                throw new InvalidArgumentException("parameter '" + name + "' of a holdfast URI is empty or repeated");
            }
        }
        params.remove("token");
        params.remove("token-file");
        params.remove("transport");
        params.remove("connectTimeout");
        params.remove("calls");
        params.remove("sessionTtl");
        params.remove("renewSessions");
        String on = params.remove("tls");
        if (on != null && !on.equals("true") && !on.equals("false")) {
            throw new InvalidArgumentException("tls is true or false in a holdfast URI, not '" + on + "'");
        }
        if ("false".equals(on)) {
            if (!params.isEmpty()) {
                throw new InvalidArgumentException(
                        "tls=false with TLS files " + params.keySet() + " in " + Redaction.uri(uri));
            }
            return null;
        }
        if (on == null && params.isEmpty()) {
            return null;
        }
        try {
            return new TlsFiles(path(params.get("cert")), path(params.get("key")), path(params.get("ca")));
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage() + " (" + Redaction.uri(uri) + ")", e);
        }
    }

    private static final List<String> PARAMETERS = List.of(
            "tls",
            "ca",
            "cert",
            "key",
            "token",
            "token-file",
            "transport",
            "connectTimeout",
            "calls",
            "sessionTtl",
            "renewSessions");

    /**
     * The {@code connectTimeout} of a {@code holdfast://} URI ({@code ?connectTimeout=2s}), or null
     * when it has none: it takes the place of {@link ClientOptions#connectTimeout()} for this
     * client, so that a configuration that holds only a URI can still bound how long opening may
     * take. Between 100 ms and 10 min, as the option.
     *
     * @throws InvalidArgumentException for a value that is no duration or out of range, and as
     *     {@link #token}
     */
    public static Duration connectTimeout(String uri) {
        return duration(uri, "connectTimeout", Duration.ofMillis(100), Duration.ofMinutes(10));
    }

    /**
     * The {@code sessionTtl} of a {@code holdfast://} URI ({@code ?sessionTtl=3s}), or null when it
     * has none: it takes the place of {@link ClientOptions#sessionTtl()} for this client, so that a
     * shell registration ({@code holdfast kv put --attach} with the URI in {@code HOLDFAST_BACKEND})
     * can be noticed gone sooner than the default 10 s. Within the option's range, {@link
     * ClientOptions#MIN_SESSION_TTL} to {@link ClientOptions#MAX_SESSION_TTL} (1 s to 10 min).
     *
     * @throws InvalidArgumentException for a value that is no duration or out of range, and as
     *     {@link #token}
     */
    public static Duration sessionTtl(String uri) {
        return duration(uri, "sessionTtl", ClientOptions.MIN_SESSION_TTL, ClientOptions.MAX_SESSION_TTL);
    }

    /**
     * The {@code renewSessions} of a {@code holdfast://} URI ({@code ?renewSessions=false}), or null
     * when it has none: it takes the place of {@link ClientOptions#renewSessions()} for this client,
     * so that a configuration that holds only a URI can ask for a client that ends with its
     * session.
     *
     * @throws InvalidArgumentException for a value other than {@code true} or {@code false}, and as
     *     {@link #token}
     */
    public static Boolean renewSessions(String uri) {
        String value = parameter(uri, "renewSessions");
        if (value != null && !value.equals("true") && !value.equals("false")) {
            throw new InvalidArgumentException("renewSessions is true or false in a holdfast URI, not '" + value + "'");
        }
        return value == null ? null : Boolean.valueOf(value);
    }

    /** The duration parameter {@code name} of the URI, within {@code [min, max]}; null when absent. */
    private static Duration duration(String uri, String name, Duration min, Duration max) {
        String value = parameter(uri, name);
        return value == null
                ? null
                : UriDurations.parse(uri, name, URLDecoder.decode(value, StandardCharsets.UTF_8), min, max);
    }

    /** The value of the URI's parameter {@code name} as written; null when absent. Checks every parameter first. */
    private static String parameter(String uri, String name) {
        token(uri); // checks every parameter
        int query = uri.indexOf('?');
        if (query < 0) {
            return null;
        }
        for (String pair : uri.substring(query + 1).split("&", -1)) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return null;
    }

    /**
     * Whether a {@code holdfast://} URI's calls go over frames: by default in plaintext (no TLS
     * files, no {@code tls=true}, no token), and over gRPC (HTTP/2) otherwise. {@code
     * transport=grpc} asks for gRPC in plaintext too (through a proxy that speaks only HTTP/2, or
     * to compare the two); {@code transport=frames} insists on frames. A plaintext node's client
     * port speaks both; a node with TLS speaks gRPC only.
     *
     * @throws InvalidArgumentException for another value, or frames beside TLS or a token
     */
    public static boolean frames(String uri) {
        String token = token(uri); // checks every parameter
        String transport = null;
        int query = uri.indexOf('?');
        if (query >= 0) {
            for (String pair : uri.substring(query + 1).split("&", -1)) {
                if (pair.startsWith("transport=")) {
                    transport = pair.substring("transport=".length());
                }
            }
        }
        if (transport == null) {
            return tls(uri) == null && token == null;
        }
        if (transport.equals("grpc")) {
            return false;
        }
        if (!transport.equals("frames")) {
            throw new InvalidArgumentException(
                    "transport is grpc or frames in a holdfast URI, not '" + transport + "'");
        }
        if (tls(uri) != null || token != null) {
            throw new InvalidArgumentException(
                    "transport=frames is plaintext only: leave out TLS and tokens, or use transport=grpc ("
                            + Redaction.uri(uri) + ")");
        }
        return true;
    }

    /**
     * The bearer token of a {@code holdfast://} URI, or null: {@code token=TOKEN}, or {@code
     * token-file=FILE} (the file's content, trimmed; keeps the token out of process lists and
     * shell history). Tokens are sent over TLS only.
     *
     * @throws InvalidArgumentException if both are given, the file cannot be read, or there is no
     *     TLS beside the token
     */
    public static String token(String uri) {
        TlsFiles tls = tls(uri); // checks every parameter
        int query = uri.indexOf('?');
        if (query < 0) {
            return null;
        }
        String token = null;
        String file = null;
        for (String pair : uri.substring(query + 1).split("&", -1)) {
            int eq = pair.indexOf('=');
            String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (pair.startsWith("token=")) {
                token = value;
            } else if (pair.startsWith("token-file=")) {
                file = value;
            }
        }
        if (token != null && file != null) {
            throw new InvalidArgumentException("a holdfast URI has token or token-file, not both");
        }
        if (file != null) {
            try {
                token = java.nio.file.Files.readString(Path.of(file)).strip();
            } catch (java.io.IOException | RuntimeException e) {
                throw new InvalidArgumentException("cannot read the token file " + file + ": " + e, e);
            }
            if (token.isEmpty()) {
                throw new InvalidArgumentException("the token file " + file + " is empty");
            }
        }
        if (token != null && tls == null) {
            throw new InvalidArgumentException(
                    "a bearer token is only sent over TLS: add ca=FILE (or tls=true) to " + uri.substring(0, query));
        }
        return token;
    }

    private static Path path(String value) {
        return value == null ? null : Path.of(value);
    }
}
