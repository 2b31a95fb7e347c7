/**
 * The recipes every client offers, built from its locks, registers, keys and watches: elections,
 * count-down latches, cyclic barriers, waits for a free lock, and, over {@link io.holdfast.Keys},
 * group membership and a double barrier, which applications reach through {@link
 * io.holdfast.LockClient#election}, {@link io.holdfast.LockClient#latch}, {@link
 * io.holdfast.LockClient#barrier}, {@link io.holdfast.LockClient#awaitFree}, {@link
 * io.holdfast.LockClient#group} and {@link io.holdfast.LockClient#doubleBarrier}. A provider's
 * client makes one {@link io.holdfast.recipes.Recipes} with its own ticker, scheduler and executor,
 * so that the recipes' timeouts run on the client's clock and their work on the client's threads.
 */
package io.holdfast.recipes;
