package io.holdfast.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import io.holdfast.protocol.SpanName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The span of a request that submits a command ({@link RequestSpan#of}): every command's name and
 * lock, pinned here. The names are the ones docs/operations.md lists; a command added to the model
 * without its sample here fails {@link #everyCommandHasItsSpan}.
 */
class RequestSpanTest {
    private static final Invocation INV = new Invocation("s-0123456789abcdef0123", 7, 1);

    /** A sample of every command, and the span of a request that submits it. */
    private static final Map<Command, RequestSpan> SPANS = samples();

    private static Map<Command, RequestSpan> samples() {
        Map<Command, RequestSpan> m = new LinkedHashMap<>();
        m.put(new Command.OpenSession("s-1", "client", 10_000, 0), span(SpanName.SESSION_OPEN, null));
        m.put(new Command.KeepAlive("s-1"), span(SpanName.SESSION_KEEPALIVE, null));
        m.put(new Command.CloseSession(INV), span(SpanName.SESSION_CLOSE, null));
        m.put(new Command.EndSession("s-1"), span(SpanName.SESSION_CLOSE, null));
        m.put(new Command.ExpireSession("s-1"), span(SpanName.SESSION_EXPIRE, null));
        m.put(
                new Command.Acquire(INV, "orders/42", LockMode.EXCLUSIVE, 1, 1, 0, 0, 0),
                span(SpanName.ACQUIRE, "orders/42"));
        m.put(
                new Command.AcquireAll(INV, List.of("a/1", "a/2"), LockMode.SHARED, 0, 0, 0),
                span(SpanName.ACQUIRE, "a/1"));
        m.put(new Command.Release(INV, "orders/42", 3), span(SpanName.RELEASE, "orders/42"));
        m.put(new Command.Renew(INV, "orders/42", 3), span(SpanName.RENEW, "orders/42"));
        m.put(new Command.CancelWait(INV, "orders/42", 6), span(SpanName.ACQUIRE_CANCEL, "orders/42"));
        m.put(new RegisterSet(INV, "config/x", 0, new byte[] {1}, null, 0), span(SpanName.REGISTER_SET, "config/x"));
        m.put(new KeyDelete(INV, "svc/a", KeyDelete.ANY_VERSION), span(SpanName.KEY_DELETE, "svc/a"));
        m.put(new CounterAdd(INV, "count/a", 2), span(SpanName.KEY_ADD, "count/a"));
        m.put(new io.holdfast.model.KeyDeletePrefix(INV, "svc/", 1_000), span(SpanName.KEY_DELETE_PREFIX, "svc/"));
        m.put(
                new Transaction(INV, List.of(new Transaction.Compare.Absent("svc/a")), List.of(), List.of()),
                span(SpanName.KEY_TXN, null));
        m.put(new Command.Revoke("orders/42"), span(SpanName.LOCK_REVOKE, "orders/42"));
        m.put(new Command.SetAccessRules(null), span(SpanName.ACCESS_SET, null));
        m.put(new Command.RevokeToken("jti-1", 60_000), span(SpanName.TOKEN_REVOKE, null));
        m.put(new Command.ReportVersion("n1", 6), span(SpanName.VERSION_REPORT, null));
        m.put(new Command.Tick(), span(SpanName.TICK, null));
        m.put(new Command.SetQuotas(Map.of()), span(SpanName.QUOTAS_SET, null));
        return m;
    }

    private static RequestSpan span(SpanName name, String lock) {
        return new RequestSpan(name, lock);
    }

    @Test
    void eachCommandNamesItsRequestsSpan() {
        SPANS.forEach((command, span) -> assertThat(RequestSpan.of(command))
                .as(command.getClass().getSimpleName())
                .isEqualTo(span));
    }

    /** The existing names stay as they were: clients' dashboards and alerts look for them. */
    @Test
    void theNamesOfTheFirstSpansAreKept() {
        assertThat(Stream.of(
                                SpanName.SESSION_OPEN,
                                SpanName.ACQUIRE,
                                SpanName.RELEASE,
                                SpanName.RENEW,
                                SpanName.ACQUIRE_CANCEL,
                                SpanName.REGISTER_SET,
                                SpanName.SESSION_CLOSE,
                                SpanName.WATCH_POLL,
                                SpanName.COMMIT,
                                SpanName.ACQUIRE_QUEUED)
                        .map(SpanName::text))
                .containsExactly(
                        "holdfast.session.open",
                        "holdfast.acquire",
                        "holdfast.release",
                        "holdfast.renew",
                        "holdfast.acquire.cancel",
                        "holdfast.register.set",
                        "holdfast.session.close",
                        "holdfast.watch.poll",
                        "holdfast.commit",
                        "holdfast.acquire.queued");
        assertThat(Stream.of(SpanName.values()).map(SpanName::text))
                .allMatch(n -> n.matches("holdfast(\\.[a-z]+)+"))
                .doesNotHaveDuplicates();
    }

    /** Every record of the sealed {@link Command} has a sample above. */
    @Test
    void everyCommandHasItsSpan() {
        Set<Class<?>> sampled = SPANS.keySet().stream().map(Object::getClass).collect(Collectors.toSet());
        assertThat(sampled).containsExactlyInAnyOrderElementsOf(commandTypes(Command.class));
    }

    /** The records under a sealed type, through its sealed subtypes. */
    private static Set<Class<?>> commandTypes(Class<?> type) {
        if (!type.isSealed()) {
            return Set.of(type);
        }
        return Stream.of(type.getPermittedSubclasses())
                .flatMap(sub -> commandTypes(sub).stream())
                .collect(Collectors.toSet());
    }
}
