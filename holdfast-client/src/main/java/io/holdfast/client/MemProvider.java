package io.holdfast.client;

import io.holdfast.Capability;
import io.holdfast.ClientOptions;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockClient;
import io.holdfast.UnsupportedFeatureException;
import io.holdfast.client.internal.ClientRuntime;
import io.holdfast.model.InProcessNodes;
import io.holdfast.spi.LockProvider;
import java.util.EnumSet;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code mem:} provider: the full lock table in this JVM, behind the same client runtime as
 * the server's. {@code mem:} names the JVM's default service, {@code mem:NAME} another one; all
 * clients opened with the same URI in one JVM share it. For tests, demos, and threads of one
 * process; it offers every feature of the server except surviving the loss of the JVM.
 *
 * <p>The table itself is not in this module: it comes from {@code io.holdfast:holdfast-node}
 * (found with {@link ServiceLoader} as an {@link InProcessNodes}), which an application adds for
 * its tests. Without it, opening {@code mem:} fails with {@link UnsupportedFeatureException}
 * naming that module.
 */
public final class MemProvider implements LockProvider {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{0,64}");

    /** Everything but replication. */
    public static final Set<Capability> CAPABILITIES =
            Set.copyOf(EnumSet.complementOf(EnumSet.of(Capability.SURVIVES_NODE_FAILURE)));

    /** The in-JVM nodes, looked up once, when {@code mem:} is first opened. */
    private static final class Nodes {
        static final Optional<InProcessNodes> FOUND = ServiceLoader.load(
                        InProcessNodes.class, MemProvider.class.getClassLoader())
                .findFirst();
    }

    @Override
    public String name() {
        return "mem";
    }

    @Override
    public boolean accepts(String uri) {
        return uri != null && uri.startsWith("mem:");
    }

    @Override
    public LockClient open(String uri, ClientOptions options) {
        String rest = uri.substring("mem:".length());
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
        }
        if (!NAME.matcher(rest).matches()) {
            throw new InvalidArgumentException(
                    "mem: URIs look like mem: or mem:NAME with NAME of up to 64 of [A-Za-z0-9._-], not " + uri);
        }
        String name = rest.isEmpty() ? "default" : rest;
        InProcessNodes nodes = Nodes.FOUND.orElseThrow(() -> new UnsupportedFeatureException(
                "mem: needs the in-JVM lock table, io.holdfast:holdfast-node, on the class path"));
        return ClientRuntime.open("mem", nodes.open(name), options, CAPABILITIES);
    }
}
