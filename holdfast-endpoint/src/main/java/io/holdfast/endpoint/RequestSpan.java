package io.holdfast.endpoint;

import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import io.holdfast.protocol.SpanName;
import java.util.Objects;

/**
 * The span of one request: its name, and the lock (or register, or key, or watched name) it is
 * about, set as {@link io.holdfast.protocol.Spans#LOCK}. A request that submits a command gets its
 * span from the command ({@link #of}); one that reads, from the read ({@link #read}).
 *
 * <p><b>Guarantees.</b> {@link #of} is a {@link Command.Visitor}: every command has its name and
 * lock here, and a new command does not compile until it has. A request about several names (an
 * acquire of several locks, a transaction, a listing) carries the first lock of an acquire and no
 * lock otherwise.
 *
 * @param name the span's name
 * @param lock the name the request is about, or null
 */
public record RequestSpan(SpanName name, String lock) {
    public RequestSpan {
        Objects.requireNonNull(name, "name");
    }

    /** The span of a request that submits {@code command}. */
    public static RequestSpan of(Command command) {
        return command.accept(BY_COMMAND);
    }

    /** The span of a request that reads ({@code name} one of {@link SpanName}'s reads), about {@code lock} or null. */
    public static RequestSpan read(SpanName name, String lock) {
        return new RequestSpan(name, lock);
    }

    private static final Command.Visitor<RequestSpan> BY_COMMAND = new Command.Visitor<>() {
        @Override
        public RequestSpan openSession(Command.OpenSession c) {
            return new RequestSpan(SpanName.SESSION_OPEN, null);
        }

        @Override
        public RequestSpan keepAlive(Command.KeepAlive c) {
            return new RequestSpan(SpanName.SESSION_KEEPALIVE, null);
        }

        @Override
        public RequestSpan closeSession(Command.CloseSession c) {
            return new RequestSpan(SpanName.SESSION_CLOSE, null);
        }

        @Override
        public RequestSpan endSession(Command.EndSession c) {
            return new RequestSpan(SpanName.SESSION_CLOSE, null);
        }

        @Override
        public RequestSpan expireSession(Command.ExpireSession c) {
            return new RequestSpan(SpanName.SESSION_EXPIRE, null);
        }

        @Override
        public RequestSpan acquire(Command.Acquire c) {
            return new RequestSpan(SpanName.ACQUIRE, c.name());
        }

        @Override
        public RequestSpan acquireAll(Command.AcquireAll c) {
            return new RequestSpan(
                    SpanName.ACQUIRE,
                    c.names() == null || c.names().isEmpty() ? null : c.names().get(0));
        }

        @Override
        public RequestSpan release(Command.Release c) {
            return new RequestSpan(SpanName.RELEASE, c.name());
        }

        @Override
        public RequestSpan renew(Command.Renew c) {
            return new RequestSpan(SpanName.RENEW, c.name());
        }

        @Override
        public RequestSpan cancelWait(Command.CancelWait c) {
            return new RequestSpan(SpanName.ACQUIRE_CANCEL, c.name());
        }

        @Override
        public RequestSpan registerSet(RegisterSet c) {
            return new RequestSpan(SpanName.REGISTER_SET, c.key());
        }

        @Override
        public RequestSpan keys(KeyCommand c) {
            return c.accept(BY_KEY_COMMAND);
        }

        @Override
        public RequestSpan revoke(Command.Revoke c) {
            return new RequestSpan(SpanName.LOCK_REVOKE, c.name());
        }

        @Override
        public RequestSpan setAccessRules(Command.SetAccessRules c) {
            return new RequestSpan(SpanName.ACCESS_SET, null);
        }

        @Override
        public RequestSpan revokeToken(Command.RevokeToken c) {
            return new RequestSpan(SpanName.TOKEN_REVOKE, null);
        }

        @Override
        public RequestSpan reportVersion(Command.ReportVersion c) {
            return new RequestSpan(SpanName.VERSION_REPORT, null);
        }

        @Override
        public RequestSpan tick(Command.Tick c) {
            return new RequestSpan(SpanName.TICK, null);
        }

        @Override
        public RequestSpan setQuotas(Command.SetQuotas c) {
            return new RequestSpan(SpanName.QUOTAS_SET, null);
        }
    };

    private static final KeyCommand.Visitor<RequestSpan> BY_KEY_COMMAND = new KeyCommand.Visitor<>() {
        @Override
        public RequestSpan keyDelete(KeyDelete c) {
            return new RequestSpan(SpanName.KEY_DELETE, c.key());
        }

        @Override
        public RequestSpan counterAdd(CounterAdd c) {
            return new RequestSpan(SpanName.KEY_ADD, c.key());
        }

        @Override
        public RequestSpan transaction(Transaction c) {
            return new RequestSpan(SpanName.KEY_TXN, null);
        }

        @Override
        public RequestSpan keyDeletePrefix(io.holdfast.model.KeyDeletePrefix c) {
            return new RequestSpan(SpanName.KEY_DELETE_PREFIX, c.prefix());
        }
    };
}
