package io.holdfast.model;

/**
 * Lock services that run inside this JVM, by name: what a {@code mem:} URI opens. Found with
 * {@link java.util.ServiceLoader}; the module {@code holdfast-node} provides the one
 * implementation, so that a client built for a server carries no lock table.
 *
 * <p><b>Guarantees.</b> {@link #open} with the same name returns services over the same node,
 * shared by every client of the JVM, which lives until the JVM exits.
 *
 * <p><b>Does not</b> replicate or persist anything.
 *
 * <p><b>A failure story.</b> An application's tests open {@code mem:} with only {@code
 * holdfast-client} on the class path: no implementation is found, and the open fails with {@link
 * io.holdfast.UnsupportedFeatureException} naming the module to add, rather than with a class
 * the client does not have.
 */
public interface InProcessNodes {
    /** The service of the node named {@code name} in this JVM, created on first use. */
    LockService open(String name);
}
