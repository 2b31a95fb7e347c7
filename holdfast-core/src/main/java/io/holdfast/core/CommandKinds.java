package io.holdfast.core;

import io.holdfast.model.Command;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.RegisterSet;

/**
 * Which commands only the members of a cluster propose: a visitor, so a new command does not
 * compile until it is placed on one side or the other.
 *
 * <p>The members' own commands ({@link Command.Tick}, {@link Command.ExpireSession}, {@link
 * Command.KeepAlive}, {@link Command.ReportVersion}, {@link Command.SetQuotas}) move the cluster
 * clock, end sessions, record versions or set the quotas from the leader's options; a node refuses
 * them from clients, and the table refuses them when they carry an identity (only a client's
 * command has one).
 */
public final class CommandKinds {
    private CommandKinds() {}

    /** Whether only the members propose {@code command}; a client that sends it is refused. */
    public static boolean membersOnly(Command command) {
        return command.accept(MEMBERS_ONLY);
    }

    private static final Command.Visitor<Boolean> MEMBERS_ONLY = new Command.Visitor<>() {
        @Override
        public Boolean tick(Command.Tick c) {
            return true;
        }

        @Override
        public Boolean expireSession(Command.ExpireSession c) {
            return true;
        }

        @Override
        public Boolean keepAlive(Command.KeepAlive c) {
            return true;
        }

        @Override
        public Boolean reportVersion(Command.ReportVersion c) {
            return true;
        }

        @Override
        public Boolean setQuotas(Command.SetQuotas c) {
            return true;
        }

        @Override
        public Boolean openSession(Command.OpenSession c) {
            return false;
        }

        @Override
        public Boolean revoke(Command.Revoke c) {
            return false;
        }

        @Override
        public Boolean endSession(Command.EndSession c) {
            return false;
        }

        @Override
        public Boolean setAccessRules(Command.SetAccessRules c) {
            return false;
        }

        @Override
        public Boolean revokeToken(Command.RevokeToken c) {
            return false;
        }

        @Override
        public Boolean closeSession(Command.CloseSession c) {
            return false;
        }

        @Override
        public Boolean acquire(Command.Acquire c) {
            return false;
        }

        @Override
        public Boolean acquireAll(Command.AcquireAll c) {
            return false;
        }

        @Override
        public Boolean release(Command.Release c) {
            return false;
        }

        @Override
        public Boolean renew(Command.Renew c) {
            return false;
        }

        @Override
        public Boolean cancelWait(Command.CancelWait c) {
            return false;
        }

        @Override
        public Boolean registerSet(RegisterSet c) {
            return false;
        }

        @Override
        public Boolean keys(KeyCommand c) {
            return false;
        }
    };
}
