package io.holdfast.core;

import io.holdfast.core.CommandCodec.Type;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.CancelWait;
import io.holdfast.model.Command.CloseSession;
import io.holdfast.model.Command.ExpireSession;
import io.holdfast.model.Command.KeepAlive;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.Revoke;
import io.holdfast.model.Command.Tick;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.RegisterSet;

/**
 * The log type of each command, without encoding it ({@link CommandCodec#typeOf}: the leader looks
 * it up for every command it is asked to log): a visitor, so a new command does not compile until
 * it has a type.
 */
final class CommandTypes {
    private CommandTypes() {}

    /** The type of each command, as {@code CommandCodec}'s writer writes it. */
    static final Command.Visitor<Type> TYPE = new Command.Visitor<>() {
        @Override
        public Type openSession(OpenSession c) {
            return Type.OPEN_SESSION;
        }

        @Override
        public Type keepAlive(KeepAlive c) {
            return Type.KEEP_ALIVE;
        }

        @Override
        public Type closeSession(CloseSession c) {
            return Type.CLOSE_SESSION;
        }

        @Override
        public Type expireSession(ExpireSession c) {
            return Type.EXPIRE_SESSION;
        }

        @Override
        public Type acquire(Acquire c) {
            return Type.ACQUIRE;
        }

        @Override
        public Type release(Release c) {
            return Type.RELEASE;
        }

        @Override
        public Type renew(Renew c) {
            return Type.RENEW;
        }

        @Override
        public Type cancelWait(CancelWait c) {
            return Type.CANCEL_WAIT;
        }

        @Override
        public Type tick(Tick c) {
            return Type.TICK;
        }

        @Override
        public Type registerSet(RegisterSet c) {
            return KeyCodec.registerSetType(c);
        }

        @Override
        public Type keys(KeyCommand c) {
            return KeyCodec.type(c);
        }

        @Override
        public Type revoke(Revoke c) {
            return Type.REVOKE;
        }

        @Override
        public Type endSession(Command.EndSession c) {
            return Type.END_SESSION;
        }

        @Override
        public Type setAccessRules(Command.SetAccessRules c) {
            return Type.SET_ACCESS_RULES;
        }

        @Override
        public Type reportVersion(Command.ReportVersion c) {
            return Type.REPORT_VERSION;
        }

        @Override
        public Type revokeToken(Command.RevokeToken c) {
            return Type.REVOKE_TOKEN;
        }

        @Override
        public Type setQuotas(Command.SetQuotas c) {
            return Type.SET_QUOTAS;
        }

        @Override
        public Type acquireAll(Command.AcquireAll c) {
            return Type.ACQUIRE_ALL;
        }
    };
}
