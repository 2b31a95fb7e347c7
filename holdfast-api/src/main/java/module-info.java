/**
 * Holdfast's public API and provider SPI: what applications compile against, with no dependencies
 * beyond the JDK. Providers are found with {@link java.util.ServiceLoader}; on the module path a
 * provider module declares {@code provides io.holdfast.spi.LockProvider with ...} (the provider jars
 * are automatic modules, named in their manifests, whose {@code META-INF/services} entries count).
 */
module io.holdfast {
    exports io.holdfast;
    exports io.holdfast.spi;

    uses io.holdfast.spi.LockProvider;
}
