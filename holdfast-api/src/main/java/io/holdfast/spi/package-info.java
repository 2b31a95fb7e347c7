/**
 * For provider authors: {@link io.holdfast.spi.LockProvider}, found with {@link
 * java.util.ServiceLoader}, opens a {@link io.holdfast.LockClient} for its URIs; {@link
 * io.holdfast.spi.AbstractLockClient} gives that client its recipes. Applications never need
 * this package.
 */
package io.holdfast.spi;
