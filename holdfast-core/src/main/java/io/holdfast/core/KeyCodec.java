package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.PutOptions.Lifetime;
import io.holdfast.core.CommandCodec.Type;
import io.holdfast.model.Command;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.KeyDeletePrefix;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import io.holdfast.model.Transaction.Compare;
import io.holdfast.model.Transaction.Op;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The log format of the key commands ({@link KeyCommand}, protocol version 6) and of the register
 * writes that say how long their key lives (types 18 and 23: {@link #registerSetType}), after the
 * type byte and time that {@link CommandCodec} writes; the same conventions (numbers big-endian,
 * strings as {@link DataOutputStream#writeUTF}, values as an int length and the bytes, a boolean
 * as one byte 0 or 1).
 *
 * <pre>
 * 19 KeyDelete:   invocation, key, expectedVersion (long)
 * 20 CounterAdd:  invocation, key, delta (long)
 * 21 Transaction: invocation, compares, then ops, else ops; each list a short count and its items
 *   compare: kind byte, then 1 version: key, order (byte: EQUAL, NOT_EQUAL, LESS, GREATER), version;
 *     2 value: key, value; 3 absent: key; 4 fence: lock, token; 5 holder: lock, sessionId;
 *     6 session alive: sessionId
 *   op: kind byte, then 1 put: key, expectedVersion, value, attach (bool), ttlMillis;
 *     2 delete: key, expectedVersion; 3 add: key, delta; 4 get: key
 * 24 Transaction whose puts name their lifetime (protocol version 8): as 21, but a put's attach
 *   byte is its lifetime: 0 keep, 1 attach, 2 detach
 * 25 KeyDeletePrefix (protocol version 9): invocation, prefix, limit (int)
 * 26 Transaction whose puts may name a lease (protocol version 10, ADR 0006): as 24, and after a
 *   put's ttlMillis its lease: a string, empty for none
 * </pre>
 *
 * <p>A put of type 21 attaches (1) or detaches (0) its key, for ever: that is what those entries
 * meant when they were logged. A transaction is written as 24 only when one of its puts keeps its
 * key's lifetime, so that every other one stays readable by a member of version 6 or 7; as 26 only
 * when one of its puts names a lease.
 *
 * <p>Reading is total as {@link CommandCodec#decode} is: anything malformed raises {@link
 * CommandFormatException}. A list longer than four times {@link Limits#MAX_TXN_OPS} is refused by
 * the codec (a bound on what a damaged entry makes a replica allocate); a shorter one over the
 * limit decodes, and the table refuses it with its usual message.
 */
final class KeyCodec {
    private static final int MAX_LIST = 4 * Limits.MAX_TXN_OPS;

    private KeyCodec() {}

    static Type type(KeyCommand c) {
        return c.accept(new KeyCommand.Visitor<Type>() {
            @Override
            public Type keyDelete(KeyDelete c) {
                return Type.KEY_DELETE;
            }

            @Override
            public Type counterAdd(CounterAdd c) {
                return Type.COUNTER_ADD;
            }

            @Override
            public Type transaction(Transaction c) {
                return leases(c) ? Type.TRANSACTION_LEASES : keeps(c) ? Type.TRANSACTION_LIFETIMES : Type.TRANSACTION;
            }

            @Override
            public Type keyDeletePrefix(KeyDeletePrefix c) {
                return Type.KEY_DELETE_PREFIX;
            }
        });
    }

    /**
     * A write's type: 18 when it attaches the key or gives it a time to live, 23 when it keeps the
     * key's lifetime, which only a write of type 16 may; else 16 or 10, which detach.
     */
    static Type registerSetType(RegisterSet c) {
        if ((c.leased() || c.keeps()) && !c.ownFence()) {
            throw new io.holdfast.InvalidArgumentException(
                    "a write fenced by any session's grant cannot attach a key or keep its lifetime");
        }
        if (c.keeps() && c.ttlMillis() != 0) {
            throw new io.holdfast.InvalidArgumentException(
                    "a write that keeps the key's lifetime cannot give it a time to live");
        }
        return c.leased()
                ? Type.KEY_PUT
                : c.keeps() ? Type.KEY_PUT_KEEP : c.ownFence() ? Type.REGISTER_SET_OWN_FENCE : Type.REGISTER_SET;
    }

    /** A write of type 18: the fields of type 16, then whether it attaches, and its time to live. */
    static RegisterSet leasedSet(RegisterSet s, DataInputStream in) throws IOException {
        return new RegisterSet(
                s.invocation(),
                s.key(),
                s.expectedVersion(),
                s.value(),
                s.fenceName(),
                s.fenceToken(),
                true,
                CommandCodec.bool(in.readUnsignedByte()),
                in.readLong());
    }

    /** Writes the fields of a key command (its type byte and time are written already). */
    static void write(KeyCommand c, DataOutputStream out) throws IOException {
        CommandCodec.invocation(c.invocation(), out);
        if (c instanceof KeyDelete d) {
            out.writeUTF(d.key());
            out.writeLong(d.expectedVersion());
        } else if (c instanceof CounterAdd a) {
            out.writeUTF(a.key());
            out.writeLong(a.delta());
        } else if (c instanceof KeyDeletePrefix p) {
            out.writeUTF(p.prefix());
            out.writeInt(p.limit());
        } else {
            Transaction t = (Transaction) c;
            out.writeShort(count(t.compares()));
            for (Compare compare : t.compares()) {
                write(compare, out);
            }
            Type type = type(t);
            writeOps(t.then(), type, out);
            writeOps(t.otherwise(), type, out);
        }
    }

    /** Whether a put of the transaction names a lease (log type 26). */
    static boolean leases(Transaction t) {
        return leases(t.then()) || leases(t.otherwise());
    }

    private static boolean leases(List<Op> ops) {
        if (ops != null) {
            for (Op op : ops) {
                if (op instanceof Op.Put p && p.lease() != null) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether a put of the transaction keeps its key's lifetime (log type 24). */
    static boolean keeps(Transaction t) {
        return keeps(t.then()) || keeps(t.otherwise());
    }

    private static boolean keeps(List<Op> ops) {
        if (ops != null) {
            for (Op op : ops) {
                if (op instanceof Op.Put p && p.lifetime() == Lifetime.KEEP) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int count(List<?> list) {
        if (list == null) {
            throw new InvalidArgumentException("a transaction's lists must not be null");
        }
        if (list.size() > MAX_LIST) {
            throw new InvalidArgumentException("a transaction list of " + list.size() + " items is over the limit"
                    + " txn-ops of " + Limits.MAX_TXN_OPS);
        }
        return list.size();
    }

    private static void write(Compare c, DataOutputStream out) throws IOException {
        if (c instanceof Compare.Version v) {
            out.writeByte(1);
            out.writeUTF(v.key());
            out.writeByte(v.order().ordinal());
            out.writeLong(v.version());
        } else if (c instanceof Compare.Value v) {
            out.writeByte(2);
            out.writeUTF(v.key());
            value(v.value(), out);
        } else if (c instanceof Compare.Absent a) {
            out.writeByte(3);
            out.writeUTF(a.key());
        } else if (c instanceof Compare.Fence f) {
            out.writeByte(4);
            out.writeUTF(f.lock());
            out.writeLong(f.token());
        } else if (c instanceof Compare.Holder h) {
            out.writeByte(5);
            out.writeUTF(h.lock());
            out.writeUTF(h.sessionId());
        } else {
            out.writeByte(6);
            out.writeUTF(((Compare.SessionAlive) c).sessionId());
        }
    }

    private static void writeOps(List<Op> ops, Type type, DataOutputStream out) throws IOException {
        boolean lifetimes = type != Type.TRANSACTION;
        out.writeShort(count(ops));
        for (Op op : ops) {
            if (op instanceof Op.Put p) {
                out.writeByte(1);
                out.writeUTF(p.key());
                out.writeLong(p.expectedVersion());
                value(p.value(), out);
                if (lifetimes) {
                    out.writeByte(p.lifetime().ordinal());
                } else {
                    out.writeBoolean(p.attach());
                }
                out.writeLong(p.ttlMillis());
                if (type == Type.TRANSACTION_LEASES) {
                    out.writeUTF(p.lease() == null ? "" : p.lease());
                }
            } else if (op instanceof Op.Delete d) {
                out.writeByte(2);
                out.writeUTF(d.key());
                out.writeLong(d.expectedVersion());
            } else if (op instanceof Op.Add a) {
                out.writeByte(3);
                out.writeUTF(a.key());
                out.writeLong(a.delta());
            } else {
                out.writeByte(4);
                out.writeUTF(op.key());
            }
        }
    }

    private static void value(byte[] value, DataOutputStream out) throws IOException {
        if (value == null) {
            throw new InvalidArgumentException("a transaction's value must not be null");
        }
        if (value.length > Limits.MAX_VALUE_BYTES) {
            throw new InvalidArgumentException(
                    "value is " + value.length + " bytes; the limit is " + Limits.MAX_VALUE_BYTES);
        }
        out.writeInt(value.length);
        out.write(value);
    }

    /** Reads the fields of a key command of this type. */
    static Command read(Type type, DataInputStream in) throws IOException {
        Command.Invocation inv = CommandCodec.invocation(in);
        return switch (type) {
            case KEY_DELETE -> new KeyDelete(inv, in.readUTF(), in.readLong());
            case COUNTER_ADD -> new CounterAdd(inv, in.readUTF(), in.readLong());
            case TRANSACTION, TRANSACTION_LIFETIMES, TRANSACTION_LEASES ->
                new Transaction(inv, compares(in), ops(in, type), ops(in, type));
            case KEY_DELETE_PREFIX -> new KeyDeletePrefix(inv, in.readUTF(), in.readInt());
            default -> throw new CommandFormatException("command type " + type + " is not a key command");
        };
    }

    private static int count(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > MAX_LIST) {
            throw new CommandFormatException("a transaction list of " + n + " items is out of bounds");
        }
        return n;
    }

    private static List<Compare> compares(DataInputStream in) throws IOException {
        int n = count(in);
        List<Compare> compares = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int kind = in.readUnsignedByte();
            compares.add(
                    switch (kind) {
                        case 1 -> new Compare.Version(in.readUTF(), order(in.readUnsignedByte()), in.readLong());
                        case 2 -> new Compare.Value(in.readUTF(), CommandCodec.value(in));
                        case 3 -> new Compare.Absent(in.readUTF());
                        case 4 -> new Compare.Fence(in.readUTF(), in.readLong());
                        case 5 -> new Compare.Holder(in.readUTF(), in.readUTF());
                        case 6 -> new Compare.SessionAlive(in.readUTF());
                        default -> throw new CommandFormatException("unknown compare kind " + kind);
                    });
        }
        return compares;
    }

    private static List<Op> ops(DataInputStream in, Type type) throws IOException {
        boolean lifetimes = type != Type.TRANSACTION;
        int n = count(in);
        List<Op> ops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int kind = in.readUnsignedByte();
            ops.add(
                    switch (kind) {
                        case 1 ->
                            new Op.Put(
                                    in.readUTF(),
                                    in.readLong(),
                                    CommandCodec.value(in),
                                    lifetimes
                                            ? lifetime(in.readUnsignedByte())
                                            : CommandCodec.bool(in.readUnsignedByte())
                                                    ? Lifetime.ATTACH
                                                    : Lifetime.DETACH,
                                    in.readLong(),
                                    type == Type.TRANSACTION_LEASES ? lease(in.readUTF()) : null);
                        case 2 -> new Op.Delete(in.readUTF(), in.readLong());
                        case 3 -> new Op.Add(in.readUTF(), in.readLong());
                        case 4 -> new Op.Get(in.readUTF());
                        default -> throw new CommandFormatException("unknown transaction op kind " + kind);
                    });
        }
        return ops;
    }

    private static String lease(String written) {
        return written.isEmpty() ? null : written;
    }

    /** A lifetime of a put of type 23 or 24: 0 keep, 1 attach, 2 detach. */
    static Lifetime lifetime(int ordinal) throws CommandFormatException {
        if (ordinal >= Lifetime.values().length) {
            throw new CommandFormatException("unknown lifetime " + ordinal);
        }
        return Lifetime.values()[ordinal];
    }

    private static Transaction.Order order(int ordinal) throws CommandFormatException {
        if (ordinal >= Transaction.Order.values().length) {
            throw new CommandFormatException("unknown compare order " + ordinal);
        }
        return Transaction.Order.values()[ordinal];
    }
}
