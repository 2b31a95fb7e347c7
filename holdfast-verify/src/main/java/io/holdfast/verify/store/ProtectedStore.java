package io.holdfast.verify.store;

import java.io.IOException;

/**
 * A resource that critical sections write to, as a client sees it: the fenced store or its
 * unfenced twin (see {@link io.holdfast.verify.history.StoreWrite}). Each write is one round trip;
 * the store logs it before answering.
 */
public interface ProtectedStore extends AutoCloseable {

    /**
     * Writes one marker of a critical section.
     *
     * @param key the protected resource (the lock's name)
     * @param token the writer's fencing token
     * @param process the writing client's id
     * @param seq the writer's acquire operation
     * @param phase {@link io.holdfast.verify.history.StoreWrite#ENTER}, {@code WORK} or {@code EXIT}
     * @return true if the store accepted the write, false if it refused it as stale
     * @throws IOException if the store could not be reached (the write may or may not have landed)
     */
    boolean write(String key, long token, String process, long seq, String phase) throws IOException;

    @Override
    void close();
}
