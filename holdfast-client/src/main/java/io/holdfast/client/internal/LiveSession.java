package io.holdfast.client.internal;

import io.holdfast.ClientOptions;
import io.holdfast.model.Event;
import io.holdfast.model.LockService;
import java.util.function.Consumer;

/**
 * One session of a client and the parts that live and die with it: its heartbeats ({@link
 * ClientSession}), its numbered requests, its leases and its waits, and where its events go. A
 * client that renews its sessions (ADR 0004) makes one of these per session; nothing of a lost
 * session is carried into the next one.
 *
 * @param session the session itself
 * @param requests its numbered requests (its invocation ledger is keyed by its id)
 * @param leases the leases it holds
 * @param waits the acquires it has sent and not settled
 * @param events where its events go: grants and ends of waits, losses, its expiry
 */
record LiveSession(
        ClientSession session, Requests requests, LeaseRegistry leases, Waits waits, Event.Visitor<Void> events) {

    /**
     * The parts of a new session {@code id}, not opened with the service yet.
     *
     * @param client the client the session's leases belong to ({@link LeaseRegistry#issuedBy})
     * @param onExpiry told once, with the reason, when the session expires here
     */
    static LiveSession create(
            String id,
            Object client,
            LockService transport,
            ClientOptions options,
            ClientThreads threads,
            Consumer<String> onExpiry) {
        ClientSession session = new ClientSession(id, transport, options, threads, onExpiry);
        Requests requests = new Requests(transport, options, threads, session, ClientTracing.global());
        SessionParts parts = new SessionParts(transport, options, threads, session, requests);
        LeaseRegistry leases = new LeaseRegistry(parts, client);
        Waits waits = new Waits(parts, leases);
        Event.Visitor<Void> events = Event.Visitor.of(
                waits::onGranted,
                waits::onTimedOut,
                leases::onLost,
                expired -> session.expire("the service expired the session"));
        return new LiveSession(session, requests, leases, waits, events);
    }

    String id() {
        return session.id();
    }
}
