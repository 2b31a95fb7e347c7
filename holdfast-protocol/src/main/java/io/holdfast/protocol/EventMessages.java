package io.holdfast.protocol;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Event;
import io.holdfast.protocol.v1.EventMessage;

/** Events to and from their {@code EventMessage}, and the stream's start and gap messages. See {@link Convert}. */
final class EventMessages {
    private EventMessages() {}

    /** The message for an event. */
    static EventMessage toProto(Event event) {
        EventMessage.Builder b = EventMessage.newBuilder().setSessionId(Fields.text(event.sessionId(), "sessionId"));
        return event.accept(new Event.Visitor<EventMessage.Builder>() {
                    @Override
                    public EventMessage.Builder granted(Event.Granted x) {
                        return b.setGranted(EventMessage.Granted.newBuilder()
                                .setSeq(x.seq())
                                .setName(Fields.text(x.name(), "name"))
                                .setToken(x.token()));
                    }

                    @Override
                    public EventMessage.Builder waitTimedOut(Event.WaitTimedOut x) {
                        return b.setWaitTimedOut(EventMessage.WaitTimedOut.newBuilder()
                                .setSeq(x.seq())
                                .setName(Fields.text(x.name(), "name")));
                    }

                    @Override
                    public EventMessage.Builder lost(Event.Lost x) {
                        return b.setLost(EventMessage.Lost.newBuilder()
                                .setName(Fields.text(x.name(), "name"))
                                .setToken(x.token())
                                .setReason(ProtoEnums.toProto(x.reason())));
                    }

                    @Override
                    public EventMessage.Builder sessionExpired(Event.SessionExpired x) {
                        return b.setSessionExpired(EventMessage.SessionExpired.getDefaultInstance());
                    }
                })
                .build();
    }

    /** The message that opens an event stream: the server delivers from now on. */
    static EventMessage started(String sessionId) {
        return EventMessage.newBuilder()
                .setSessionId(sessionId)
                .setStarted(EventMessage.Started.getDefaultInstance())
                .build();
    }

    /** The message that tells a stream's reader that events may have been lost. */
    static EventMessage gap(String sessionId) {
        return EventMessage.newBuilder()
                .setSessionId(sessionId)
                .setGap(EventMessage.Gap.getDefaultInstance())
                .build();
    }

    /**
     * The event a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed, or is a stream marker ({@code
     *     started}, {@code gap}) rather than an event
     */
    static Event fromProto(EventMessage m) {
        String session = m.getSessionId();
        return switch (m.getKindCase()) {
            case GRANTED -> {
                EventMessage.Granted x = m.getGranted();
                yield new Event.Granted(session, x.getSeq(), x.getName(), x.getToken());
            }
            case WAIT_TIMED_OUT ->
                new Event.WaitTimedOut(
                        session,
                        m.getWaitTimedOut().getSeq(),
                        m.getWaitTimedOut().getName());
            case LOST -> {
                EventMessage.Lost x = m.getLost();
                yield new Event.Lost(session, x.getName(), x.getToken(), ProtoEnums.fromProto(x.getReason()));
            }
            case SESSION_EXPIRED -> new Event.SessionExpired(session);
            case STARTED, GAP ->
                throw new InvalidArgumentException(
                        "the event message is a stream marker (" + m.getKindCase() + "), not an event");
            case KIND_NOT_SET -> throw new InvalidArgumentException("the event message has no event");
        };
    }
}
