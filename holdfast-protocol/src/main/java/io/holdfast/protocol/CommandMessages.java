package io.holdfast.protocol;

import com.google.protobuf.ByteString;
import io.holdfast.InvalidArgumentException;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.model.Command;
import io.holdfast.model.KeyCommand;
import io.holdfast.protocol.v1.Acquire;
import io.holdfast.protocol.v1.CancelWait;
import io.holdfast.protocol.v1.CloseSession;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.Invocation;
import io.holdfast.protocol.v1.OpenSession;
import io.holdfast.protocol.v1.RegisterSet;
import io.holdfast.protocol.v1.Release;
import io.holdfast.protocol.v1.Renew;
import io.holdfast.protocol.v1.Revoke;

/**
 * Commands to and from their {@code CommandRequest} messages: only the commands a client may send
 * have one. Commands carry no time: the proposer puts each in its envelope with the cluster
 * time. See {@link Convert} for the rules every conversion keeps.
 */
final class CommandMessages {
    private CommandMessages() {}

    /**
     * The message for a command a client sends.
     *
     * @throws InvalidArgumentException for a command no client may send, or one with a null field
     */
    static CommandRequest toProto(Command command) {
        if (command == null) {
            throw new InvalidArgumentException("a client cannot send a null command");
        }
        CommandRequest.Builder b = CommandRequest.newBuilder();
        command.accept(new Command.Visitor<Void>() {
            @Override
            public Void openSession(Command.OpenSession x) {
                b.setOpenSession(OpenSession.newBuilder()
                        .setSessionId(Fields.text(x.sessionId(), "sessionId"))
                        .setClientName(Fields.text(x.clientName(), "clientName"))
                        .setTtlMillis(x.ttlMillis())
                        .setLockDelayMillis(x.lockDelayMillis()));
                return null;
            }

            @Override
            public Void closeSession(Command.CloseSession x) {
                b.setCloseSession(CloseSession.newBuilder().setInvocation(toProto(x.invocation())));
                return null;
            }

            @Override
            public Void acquire(Command.Acquire x) {
                b.setAcquire(Acquire.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setName(Fields.text(x.name(), "name"))
                        .setMode(ProtoEnums.toProto(x.mode()))
                        .setPermits(x.permits())
                        .setMaxPermits(x.maxPermits())
                        .setOwner(x.owner())
                        .setWaitMillis(x.waitMillis())
                        .setLeaseMillis(x.leaseMillis()));
                return null;
            }

            @Override
            public Void acquireAll(Command.AcquireAll x) {
                io.holdfast.protocol.v1.AcquireAll.Builder all = io.holdfast.protocol.v1.AcquireAll.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setMode(ProtoEnums.toProto(x.mode()))
                        .setOwner(x.owner())
                        .setWaitMillis(x.waitMillis())
                        .setLeaseMillis(x.leaseMillis());
                for (String name : x.names()) {
                    all.addNames(Fields.text(name, "names"));
                }
                b.setAcquireAll(all);
                return null;
            }

            @Override
            public Void release(Command.Release x) {
                b.setRelease(Release.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setName(Fields.text(x.name(), "name"))
                        .setToken(x.token()));
                return null;
            }

            @Override
            public Void renew(Command.Renew x) {
                b.setRenew(Renew.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setName(Fields.text(x.name(), "name"))
                        .setToken(x.token()));
                return null;
            }

            @Override
            public Void cancelWait(Command.CancelWait x) {
                b.setCancelWait(CancelWait.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setName(Fields.text(x.name(), "name"))
                        .setWaitSeq(x.waitSeq()));
                return null;
            }

            @Override
            public Void registerSet(io.holdfast.model.RegisterSet x) {
                if (x.value() == null) {
                    throw new InvalidArgumentException("a register value must not be null");
                }
                RegisterSet.Builder r = RegisterSet.newBuilder()
                        .setInvocation(toProto(x.invocation()))
                        .setKey(Fields.text(x.key(), "key"))
                        .setExpectedVersion(x.expectedVersion())
                        .setValue(ByteString.copyFrom(x.value()))
                        .setFenceToken(x.fenceToken());
                if (x.fenceName() != null) {
                    r.setFenceName(x.fenceName());
                }
                if (!x.keeps()) {
                    b.setLeasedRegisterSet(r.setAttach(x.attach())
                            .setTtlMillis(x.ttlMillis())
                            .setDetach(x.lifetime() == Lifetime.DETACH));
                } else {
                    b.setRegisterSet(r);
                }
                return null;
            }

            @Override
            public Void keys(KeyCommand x) {
                KeyMessages.toProto(x, b);
                return null;
            }

            @Override
            public Void revoke(Command.Revoke x) {
                b.setRevoke(Revoke.newBuilder().setName(Fields.text(x.name(), "name")));
                return null;
            }

            @Override
            public Void endSession(Command.EndSession x) {
                b.setEndSession(io.holdfast.protocol.v1.EndSession.newBuilder()
                        .setSessionId(Fields.text(x.sessionId(), "session_id")));
                return null;
            }

            @Override
            public Void setAccessRules(Command.SetAccessRules x) {
                io.holdfast.protocol.v1.SetAccessRules.Builder rules =
                        io.holdfast.protocol.v1.SetAccessRules.newBuilder();
                if (x.text() != null) {
                    rules.setText(x.text());
                }
                b.setSetAccessRules(rules);
                return null;
            }

            @Override
            public Void revokeToken(Command.RevokeToken x) {
                b.setRevokeToken(io.holdfast.protocol.v1.RevokeToken.newBuilder()
                        .setJti(Fields.text(x.jti(), "jti"))
                        .setKeepMillis(x.keepMillis()));
                return null;
            }

            @Override
            public Void keepAlive(Command.KeepAlive x) {
                throw new InvalidArgumentException("a client cannot send " + Fields.kindOf(x));
            }

            @Override
            public Void expireSession(Command.ExpireSession x) {
                throw new InvalidArgumentException("a client cannot send " + Fields.kindOf(x));
            }

            @Override
            public Void tick(Command.Tick x) {
                throw new InvalidArgumentException("a client cannot send " + Fields.kindOf(x));
            }

            @Override
            public Void reportVersion(Command.ReportVersion x) {
                throw new InvalidArgumentException("a client cannot send " + Fields.kindOf(x));
            }

            @Override
            public Void setQuotas(Command.SetQuotas x) {
                throw new InvalidArgumentException("a client cannot send " + Fields.kindOf(x));
            }
        });
        return b.build();
    }

    /**
     * The command a message stands for.
     *
     * @throws InvalidArgumentException if the message is malformed
     */
    static Command fromProto(CommandRequest m) {
        return switch (m.getKindCase()) {
            case OPEN_SESSION -> {
                OpenSession x = m.getOpenSession();
                yield new Command.OpenSession(
                        x.getSessionId(), x.getClientName(), x.getTtlMillis(), x.getLockDelayMillis());
            }
            case CLOSE_SESSION -> {
                CloseSession x = m.getCloseSession();
                yield new Command.CloseSession(invocation(x.hasInvocation(), x.getInvocation(), "close_session"));
            }
            case ACQUIRE -> {
                Acquire x = m.getAcquire();
                yield new Command.Acquire(
                        invocation(x.hasInvocation(), x.getInvocation(), "acquire"),
                        x.getName(),
                        ProtoEnums.fromProto(x.getMode(), "acquire.mode"),
                        x.getPermits(),
                        x.getMaxPermits(),
                        x.getOwner(),
                        x.getWaitMillis(),
                        x.getLeaseMillis());
            }
            case ACQUIRE_ALL -> {
                io.holdfast.protocol.v1.AcquireAll x = m.getAcquireAll();
                yield new Command.AcquireAll(
                        invocation(x.hasInvocation(), x.getInvocation(), "acquire_all"),
                        x.getNamesList(),
                        ProtoEnums.fromProto(x.getMode(), "acquire_all.mode"),
                        x.getOwner(),
                        x.getWaitMillis(),
                        x.getLeaseMillis());
            }
            case RELEASE -> {
                Release x = m.getRelease();
                yield new Command.Release(
                        invocation(x.hasInvocation(), x.getInvocation(), "release"), x.getName(), x.getToken());
            }
            case RENEW -> {
                Renew x = m.getRenew();
                yield new Command.Renew(
                        invocation(x.hasInvocation(), x.getInvocation(), "renew"), x.getName(), x.getToken());
            }
            case CANCEL_WAIT -> {
                CancelWait x = m.getCancelWait();
                yield new Command.CancelWait(
                        invocation(x.hasInvocation(), x.getInvocation(), "cancel_wait"), x.getName(), x.getWaitSeq());
            }
            case REGISTER_SET -> {
                RegisterSet x = m.getRegisterSet();
                if (x.getAttach() || x.getTtlMillis() != 0 || x.getDetach()) {
                    throw new InvalidArgumentException("register_set sets attach, ttl_millis or detach, which only"
                            + " leased_register_set carries (a server older than protocol version 6 would"
                            + " ignore them)");
                }
                yield registerSet(x, "register_set", Lifetime.KEEP);
            }
            case LEASED_REGISTER_SET -> {
                RegisterSet x = m.getLeasedRegisterSet();
                if (x.getAttach() && x.getDetach()) {
                    throw new InvalidArgumentException("leased_register_set sets both attach and detach");
                }
                yield registerSet(x, "leased_register_set", x.getAttach() ? Lifetime.ATTACH : Lifetime.DETACH);
            }
            case KEY_DELETE -> KeyMessages.fromProto(m.getKeyDelete());
            case COUNTER_ADD -> KeyMessages.fromProto(m.getCounterAdd());
            case TRANSACTION -> KeyMessages.fromProto(m.getTransaction());
            case KEY_DELETE_PREFIX -> KeyMessages.fromProto(m.getKeyDeletePrefix());
            case REVOKE -> new Command.Revoke(m.getRevoke().getName());
            case END_SESSION -> new Command.EndSession(m.getEndSession().getSessionId());
            case REVOKE_TOKEN ->
                new Command.RevokeToken(
                        m.getRevokeToken().getJti(), m.getRevokeToken().getKeepMillis());
            case SET_ACCESS_RULES ->
                new Command.SetAccessRules(
                        m.getSetAccessRules().hasText() ? m.getSetAccessRules().getText() : null);
            case KIND_NOT_SET ->
                throw new InvalidArgumentException("the command request has no command" + Fields.unknown(m));
        };
    }

    private static io.holdfast.model.RegisterSet registerSet(RegisterSet x, String kind, Lifetime lifetime) {
        return new io.holdfast.model.RegisterSet(
                invocation(x.hasInvocation(), x.getInvocation(), kind),
                x.getKey(),
                x.getExpectedVersion(),
                x.getValue().toByteArray(),
                x.hasFenceName() ? x.getFenceName() : null,
                x.getFenceToken(),
                true,
                lifetime,
                x.getTtlMillis());
    }

    static Invocation toProto(Command.Invocation inv) {
        return Invocation.newBuilder()
                .setSessionId(inv.sessionId())
                .setSeq(inv.seq())
                .setAckedBelow(inv.ackedBelow())
                .build();
    }

    static Command.Invocation invocation(boolean present, Invocation inv, String command) {
        if (!present) {
            throw new InvalidArgumentException("the " + command + " command has no invocation");
        }
        return new Command.Invocation(inv.getSessionId(), inv.getSeq(), inv.getAckedBelow());
    }
}
