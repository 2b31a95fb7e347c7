package io.holdfast.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.holdfast.ErrorCode;
import io.holdfast.model.Reply;
import io.holdfast.server.http.HttpMessages.Answer;
import io.holdfast.server.http.HttpMessages.Refused;
import java.util.Map;

/**
 * How the table's replies read as answers of the HTTP routes: a failure as its refusal (status,
 * code, and the cycle of a deadlock or the version of a conflict), a reply that the command at
 * hand never gets as the node's fault (500), and each route's own success.
 *
 * <p><b>Guarantees.</b> Every reply type has an HTTP meaning here ({@link ReplyAnswer} is a
 * {@link Reply.Visitor}): a new reply does not compile until it has one. <b>Does not</b> decide
 * what a route's success looks like: each route writes its own.
 */
final class HttpReplies {
    private HttpReplies() {}

    /** {@code ok} as 200 with {@code body}; a failed reply as its refusal ({@link #refused(Reply.Failed)}). */
    static Answer outcome(Reply r, ObjectNode body) {
        if (r instanceof Reply.Failed f) {
            throw refused(f);
        }
        return Answer.json(200, body);
    }

    /**
     * A route's answer to the table's reply, by the reply's type. A route overrides the replies its
     * command can get; a failure is its refusal ({@link #refused(Reply.Failed)}) unless the route
     * says otherwise; any other reply is {@link #unexpected} (500). This is where a new reply type
     * gets its HTTP meaning for every route at once: it does not compile until it has one.
     *
     * @param <T> what the route makes of a reply
     */
    abstract static class ReplyAnswer<T> implements Reply.Visitor<T> {
        @Override
        public T failed(Reply.Failed f) {
            throw refused(f);
        }

        @Override
        public T ok(Reply.Ok r) {
            throw unexpected(r);
        }

        @Override
        public T granted(Reply.Granted r) {
            throw unexpected(r);
        }

        @Override
        public T grantedAll(Reply.GrantedAll r) {
            throw unexpected(r);
        }

        @Override
        public T queued(Reply.Queued r) {
            throw unexpected(r); // HttpSessions answers a queued acquire once it is decided
        }

        @Override
        public T busy(Reply.Busy r) {
            throw unexpected(r);
        }

        @Override
        public T written(Reply.Written r) {
            throw unexpected(r);
        }

        @Override
        public T counted(Reply.Counted r) {
            throw unexpected(r);
        }

        @Override
        public T transacted(Reply.Transacted r) {
            throw unexpected(r);
        }
    }

    /** A reply the table does not give to the command at hand: the node's fault, 500. */
    static Refused unexpected(Reply r) {
        return new Refused(500, "INTERNAL", "unexpected reply " + r);
    }

    /** A refusal of the table as an HTTP one, with the cycle of a deadlock and the version of a conflict. */
    static Refused refused(Reply.Failed f) {
        Refused plain = HttpMessages.refused(f.code(), f.message());
        if (f.code() == ErrorCode.DEADLOCK) {
            return new Refused(plain.status, plain.code, plain.getMessage(), Map.of("cycle", f.cycle()));
        }
        if (f.code() == ErrorCode.CONFLICT && f.currentVersion() >= 0) {
            return new Refused(
                    plain.status, plain.code, plain.getMessage(), Map.of("currentVersion", f.currentVersion()));
        }
        return plain;
    }
}
