package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.model.LockService;

/**
 * The collaborators one client session's parts share, built once by {@link ClientRuntime}: the
 * transport, the options, the threads, the session and its request numbering. Leases and waits are
 * made from these; neither builds its own.
 *
 * @param transport the service the session talks to
 * @param options the client's options (its ticker, timeouts and retry policy)
 * @param threads the session's timer and callback threads
 * @param session the session itself
 * @param requests the session's numbered requests
 */
record SessionParts(
        LockService transport,
        ClientOptions options,
        ClientThreads threads,
        ClientSession session,
        Requests requests) {}
