/**
 * The recipes every client offers, built from its locks, registers and watches: elections,
 * count-down latches, cyclic barriers and waits for a free lock. Applications reach them through
 * {@link io.holdfast.LockClient#election}, {@link io.holdfast.LockClient#latch}, {@link
 * io.holdfast.LockClient#barrier} and {@link io.holdfast.LockClient#awaitFree}; a provider's
 * client makes one {@link io.holdfast.recipes.Recipes} with its own ticker and scheduler, so that
 * the recipes' timeouts run on the client's clock.
 */
package io.holdfast.recipes;
