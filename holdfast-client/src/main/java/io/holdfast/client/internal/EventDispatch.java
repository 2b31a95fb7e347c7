package io.holdfast.client.internal;

import io.holdfast.model.Event;

/**
 * Where each event of a session goes: a grant or a wait's end to the waits, a loss to the leases,
 * an expiry to the session. A visitor, so that an event added to the model does not compile until
 * the client says what it does with it.
 */
final class EventDispatch implements Event.Visitor<Void> {
    private final Waits waits;
    private final LeaseRegistry leases;
    private final ClientSession session;

    EventDispatch(Waits waits, LeaseRegistry leases, ClientSession session) {
        this.waits = waits;
        this.leases = leases;
        this.session = session;
    }

    @Override
    public Void granted(Event.Granted e) {
        waits.onGranted(e);
        return null;
    }

    @Override
    public Void waitTimedOut(Event.WaitTimedOut e) {
        waits.onTimedOut(e);
        return null;
    }

    @Override
    public Void lost(Event.Lost e) {
        leases.onLost(e);
        return null;
    }

    @Override
    public Void sessionExpired(Event.SessionExpired e) {
        session.expire("the service expired the session");
        return null;
    }
}
