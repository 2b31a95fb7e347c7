package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.model.LockService;

/** The backend listener the service registered for a session, asserted present. */
final class LockServiceListenerAccess {
    private LockServiceListenerAccess() {}

    static LockService.Listener listener(ScriptedLockService backend, String session) {
        LockService.Listener l = backend.listeners.get(session);
        assertThat(l).as("listener of %s", session).isNotNull();
        return l;
    }
}
