package io.holdfast.client;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.client.internal.GrpcTransport;
import io.holdfast.client.internal.MemberAddress;
import io.holdfast.spi.LockProvider;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code holdfast://} provider: a client of the Holdfast server over gRPC.
 *
 * <p>URIs name one or more members of the cluster, in any order; the client finds the leader by
 * itself and follows it when it moves: {@code holdfast://10.0.0.1:4653,10.0.0.2:4653,10.0.0.3:4653}.
 * A member without a port uses {@value MemberAddress#DEFAULT_PORT}; IPv6 addresses go in brackets
 * ({@code holdfast://[::1]:4653}). One member is enough to reach a cluster whose members name their
 * leader, but a client given all of them survives the loss of any. The connection is plaintext.
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
        GrpcTransport transport = new GrpcTransport(members(uri), options.requestTimeout());
        try {
            return ClientRuntime.open("holdfast", transport, options, CAPABILITIES);
        } catch (RuntimeException | Error e) {
            transport.close();
            throw e;
        }
    }

    /**
     * The members a {@code holdfast://} URI names.
     *
     * @throws InvalidArgumentException naming the URI and what is wrong with it
     */
    public static List<MemberAddress> members(String uri) {
        if (uri == null || !uri.startsWith(SCHEME)) {
            throw new InvalidArgumentException("holdfast URIs start with " + SCHEME + ", not " + uri);
        }
        String rest = uri.substring(SCHEME.length());
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        if (rest.indexOf('?') >= 0 || rest.indexOf('#') >= 0 || rest.indexOf('/') >= 0) {
            throw new InvalidArgumentException(
                    "holdfast URIs look like holdfast://host:port[,host:port...] with no path or parameters, not "
                            + uri);
        }
        if (rest.isBlank()) {
            throw new InvalidArgumentException("a holdfast URI names at least one member (host:port): " + uri);
        }
        List<MemberAddress> members = new ArrayList<>();
        for (String part : rest.split(",", -1)) {
            try {
                MemberAddress a = MemberAddress.parse(part, true);
                if (!members.contains(a)) {
                    members.add(a);
                }
            } catch (InvalidArgumentException e) {
                throw new InvalidArgumentException("bad member in " + uri + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(members);
    }
}
