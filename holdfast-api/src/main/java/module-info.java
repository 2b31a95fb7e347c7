/**
 * Holdfast's public API and provider SPI: what applications compile against, with no dependencies
 * beyond the JDK. Providers are found with {@link java.util.ServiceLoader}; on the module path a
 * provider module declares {@code provides io.holdfast.spi.LockProvider with ...} (the provider jars
 * are automatic modules, named in their manifests, whose {@code META-INF/services} entries count).
 *
 * <p>{@code io.holdfast.internal} holds the helpers Holdfast's own modules share (the thread
 * factory, redaction of URIs, the watch engine, the crash hook of tests): it is exported only to
 * them, so that no application or third-party provider comes to depend on it.
 */
module io.holdfast {
    exports io.holdfast;
    exports io.holdfast.spi;
    exports io.holdfast.recipes;
    exports io.holdfast.internal to
            io.holdfast.cli,
            io.holdfast.client,
            io.holdfast.endpoint,
            io.holdfast.etcd,
            io.holdfast.file,
            io.holdfast.jdbc,
            io.holdfast.node,
            io.holdfast.protocol,
            io.holdfast.redis,
            io.holdfast.server,
            io.holdfast.shedlock,
            io.holdfast.spring,
            io.holdfast.store,
            io.holdfast.testkit,
            io.holdfast.verify,
            io.holdfast.zookeeper;

    uses io.holdfast.spi.LockProvider;
}
