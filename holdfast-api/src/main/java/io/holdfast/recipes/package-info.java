/**
 * The recipes every client offers, built from its locks, registers, keys and watches: elections,
 * count-down latches, cyclic barriers and waits for a free lock, which applications reach through
 * {@link io.holdfast.LockClient#election}, {@link io.holdfast.LockClient#latch}, {@link
 * io.holdfast.LockClient#barrier} and {@link io.holdfast.LockClient#awaitFree} (a provider's client
 * makes one {@link io.holdfast.recipes.Recipes} with its own ticker and scheduler, so that the
 * recipes' timeouts run on the client's clock); and, over {@link io.holdfast.Keys}, group
 * membership ({@link io.holdfast.recipes.GroupMembership}) and a double barrier ({@link
 * io.holdfast.recipes.DoubleBarrier}), made from a client with their {@code of} methods.
 */
package io.holdfast.recipes;
