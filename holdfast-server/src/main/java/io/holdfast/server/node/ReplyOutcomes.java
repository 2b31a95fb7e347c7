package io.holdfast.server.node;

import io.holdfast.model.Reply;
import java.util.Locale;

/**
 * The outcome label of a request in the node's metrics ({@link ServerMetrics}): a visitor, so a
 * new reply does not compile until it has its label.
 */
final class ReplyOutcomes {
    private ReplyOutcomes() {}

    /** A reply's name as a request's outcome: its type, or for a refusal its error code. */
    static final Reply.Visitor<String> OUTCOME = new Reply.Visitor<>() {
        @Override
        public String ok(Reply.Ok r) {
            return "ok";
        }

        @Override
        public String granted(Reply.Granted r) {
            return "granted";
        }

        @Override
        public String grantedAll(Reply.GrantedAll r) {
            return "granted_all";
        }

        @Override
        public String queued(Reply.Queued r) {
            return "queued";
        }

        @Override
        public String busy(Reply.Busy r) {
            return "busy";
        }

        @Override
        public String written(Reply.Written r) {
            return "written";
        }

        @Override
        public String counted(Reply.Counted r) {
            return "counted";
        }

        @Override
        public String transacted(Reply.Transacted r) {
            return "transacted";
        }

        @Override
        public String failed(Reply.Failed r) {
            return r.code().name().toLowerCase(Locale.ROOT);
        }
    };
}
