package io.holdfast.recipes;

import io.holdfast.Ticker;
import io.holdfast.internal.DaemonThreads;

/**
 * Planted for {@code io.holdfast.architecture.ArchitectureTest}: a recipe that times itself on the system
 * clock and runs on a thread of its own instead of the client's ticker and executor. Test sources
 * only; the rule is shown to catch it.
 */
public final class PlantedWrongDirection {
    Ticker clock() {
        return Ticker.system();
    }

    void waitAlone(Runnable wait) {
        DaemonThreads.thread(wait, "planted-recipe").start();
    }
}
