// Ceiling 670 lines, one idea: the log format of every command (the type table with each command's
// protocol version, encode, a decode total over any bytes), kept whole so the format reads in one place.
package io.holdfast.core;

import io.holdfast.LockMode;
import io.holdfast.model.Command;
import io.holdfast.model.Command.Acquire;
import io.holdfast.model.Command.CancelWait;
import io.holdfast.model.Command.CloseSession;
import io.holdfast.model.Command.ExpireSession;
import io.holdfast.model.Command.Invocation;
import io.holdfast.model.Command.KeepAlive;
import io.holdfast.model.Command.OpenSession;
import io.holdfast.model.Command.Release;
import io.holdfast.model.Command.Renew;
import io.holdfast.model.Command.Revoke;
import io.holdfast.model.Command.Tick;
import io.holdfast.model.CounterAdd;
import io.holdfast.model.KeyCommand;
import io.holdfast.model.KeyDelete;
import io.holdfast.model.RegisterSet;
import io.holdfast.model.Transaction;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UTFDataFormatException;
import java.io.UncheckedIOException;

/**
 * The binary form of a {@link Command.Envelope}, as it is written to a replicated log: a format
 * byte ({@value #FORMAT}, or {@value #FORMAT_AUTHORED} followed by the sender's identity), the
 * command's type byte, the envelope's time, then the command's fields in declaration order
 * (numbers big-endian, strings as {@link DataOutputStream#writeUTF}, a nullable string as a
 * presence byte and the string). The bytes are those of the builds whose commands carried their
 * own time: the time moved into the envelope in memory only, so old logs and snapshots read
 * unchanged and members of both builds read each other's entries.
 *
 * <p>{@link #decode} is total over arbitrary bytes: anything that is not a well-formed command of a
 * known format raises {@link CommandFormatException} and nothing else, so a replica that applies a
 * damaged entry answers it with an error instead of dying. Well-formed commands with bad field
 * values (an empty name, a negative wait) decode fine and are refused by {@link LockTable}.
 */
public final class CommandCodec {
    /** The format byte of a command without an identity. */
    public static final int FORMAT = 1;

    /** The format byte of a command with its sender's identity (a nullable string) before it. */
    public static final int FORMAT_AUTHORED = 2;

    /** The longest identity, in characters. */
    public static final int MAX_IDENTITY = 256;

    private static final int MAX_VALUE = Limits.MAX_VALUE_BYTES;

    private CommandCodec() {}

    /**
     * Encodes a command at {@code time} without an identity.
     *
     * @throws io.holdfast.InvalidArgumentException if one of its strings is longer than 65,535
     *     bytes of (modified) UTF-8, which this format cannot hold; every such string is far over
     *     the table's own limits, so the command would be refused anyway
     */
    public static byte[] encode(long time, Command command) {
        return encode(Command.Envelope.of(time, command));
    }

    /**
     * Encodes a command in its envelope: in format {@value #FORMAT_AUTHORED} when the identity is
     * not null, else in format {@value #FORMAT}. The envelope's time is written where every format
     * has had it, after the type byte.
     *
     * @throws io.holdfast.InvalidArgumentException as {@link #encode(long, Command)}, or if the
     *     identity is longer than {@value #MAX_IDENTITY} characters
     */
    public static byte[] encode(Command.Envelope envelope) {
        Command command = envelope.command();
        String identity = envelope.identity();
        if (identity != null && identity.length() > MAX_IDENTITY) {
            throw new io.holdfast.InvalidArgumentException("an identity is at most " + MAX_IDENTITY + " characters");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (identity == null) {
                out.writeByte(FORMAT);
            } else {
                out.writeByte(FORMAT_AUTHORED);
                out.writeUTF(identity);
            }
            command.accept(new Writer(out, envelope.time()));
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof UTFDataFormatException) {
                throw new io.holdfast.InvalidArgumentException("a name, id or client name of the "
                        + command.getClass().getSimpleName() + " command is longer than 65535 bytes of UTF-8");
            }
            throw e;
        } catch (java.io.UTFDataFormatException e) {
            throw new io.holdfast.InvalidArgumentException("a name, id or client name of the "
                    + command.getClass().getSimpleName() + " command is longer than 65535 bytes of UTF-8");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Something written to the stream; the codec's visitor methods wrap it. */
    private interface Writing {
        void write() throws IOException;
    }

    /** Writes a command's type byte, time and fields; total over the commands by construction. */
    private static final class Writer implements Command.Visitor<Void> {
        private final DataOutputStream out;
        private final long time;

        Writer(DataOutputStream out, long time) {
            this.out = out;
            this.time = time;
        }

        private Void io(Writing w) {
            try {
                w.write();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return null;
        }

        private void head(Type type) throws IOException {
            out.writeByte(type.code);
            out.writeLong(time);
        }

        @Override
        public Void openSession(OpenSession x) {
            return io(() -> {
                head(Type.OPEN_SESSION);
                out.writeUTF(x.sessionId());
                out.writeUTF(x.clientName());
                out.writeLong(x.ttlMillis());
                out.writeLong(x.lockDelayMillis());
            });
        }

        @Override
        public Void keepAlive(KeepAlive x) {
            return io(() -> {
                head(Type.KEEP_ALIVE);
                out.writeUTF(x.sessionId());
            });
        }

        @Override
        public Void closeSession(CloseSession x) {
            return io(() -> {
                head(Type.CLOSE_SESSION);
                invocation(x.invocation(), out);
            });
        }

        @Override
        public Void expireSession(ExpireSession x) {
            return io(() -> {
                head(Type.EXPIRE_SESSION);
                out.writeUTF(x.sessionId());
            });
        }

        @Override
        public Void acquire(Acquire x) {
            return io(() -> {
                head(Type.ACQUIRE);
                invocation(x.invocation(), out);
                out.writeUTF(x.name());
                out.writeByte(x.mode().ordinal());
                out.writeInt(x.permits());
                out.writeInt(x.maxPermits());
                out.writeLong(x.owner());
                out.writeLong(x.waitMillis());
                out.writeLong(x.leaseMillis());
                out.writeBoolean(false); // reentrant: only older builds applied true
            });
        }

        @Override
        public Void release(Release x) {
            return io(() -> {
                head(Type.RELEASE);
                invocation(x.invocation(), out);
                out.writeUTF(x.name());
                out.writeLong(x.token());
            });
        }

        @Override
        public Void renew(Renew x) {
            return io(() -> {
                head(Type.RENEW);
                invocation(x.invocation(), out);
                out.writeUTF(x.name());
                out.writeLong(x.token());
            });
        }

        @Override
        public Void cancelWait(CancelWait x) {
            return io(() -> {
                head(Type.CANCEL_WAIT);
                invocation(x.invocation(), out);
                out.writeUTF(x.name());
                out.writeLong(x.waitSeq());
            });
        }

        @Override
        public Void tick(Tick x) {
            return io(() -> head(Type.TICK));
        }

        @Override
        public Void registerSet(RegisterSet x) {
            return io(() -> {
                head(KeyCodec.registerSetType(x));
                invocation(x.invocation(), out);
                out.writeUTF(x.key());
                out.writeLong(x.expectedVersion());
                out.writeInt(x.value().length);
                out.write(x.value());
                nullable(x.fenceName(), out);
                out.writeLong(x.fenceToken());
                if (x.leased()) {
                    out.writeBoolean(x.attach());
                    out.writeLong(x.ttlMillis());
                }
            });
        }

        @Override
        public Void keys(KeyCommand x) {
            return io(() -> {
                head(KeyCodec.type(x));
                KeyCodec.write(x, out);
            });
        }

        @Override
        public Void revoke(Revoke x) {
            return io(() -> {
                head(Type.REVOKE);
                out.writeUTF(x.name());
            });
        }

        @Override
        public Void endSession(Command.EndSession x) {
            return io(() -> {
                head(Type.END_SESSION);
                out.writeUTF(x.sessionId());
            });
        }

        @Override
        public Void setAccessRules(Command.SetAccessRules x) {
            return io(() -> {
                head(Type.SET_ACCESS_RULES);
                AdmissionCodec.writeRules(x, out);
            });
        }

        @Override
        public Void revokeToken(Command.RevokeToken x) {
            return io(() -> {
                head(Type.REVOKE_TOKEN);
                out.writeUTF(x.jti());
                out.writeLong(x.keepMillis());
            });
        }

        @Override
        public Void setQuotas(Command.SetQuotas x) {
            return io(() -> {
                head(Type.SET_QUOTAS);
                AdmissionCodec.writeQuotas(x, out);
            });
        }

        @Override
        public Void reportVersion(Command.ReportVersion x) {
            return io(() -> {
                head(Type.REPORT_VERSION);
                out.writeUTF(x.member());
                out.writeInt(x.version());
            });
        }

        @Override
        public Void acquireAll(Command.AcquireAll x) {
            return io(() -> {
                head(Type.ACQUIRE_ALL);
                invocation(x.invocation(), out);
                if (x.names().size() > MAX_NAMES) {
                    throw new io.holdfast.InvalidArgumentException(
                            "a multi-lock takes at most " + Limits.MAX_MULTI_NAMES + " names, not "
                                    + x.names().size());
                }
                out.writeShort(x.names().size());
                for (String name : x.names()) {
                    out.writeUTF(name);
                }
                out.writeByte(x.mode().ordinal());
                out.writeLong(x.owner());
                out.writeLong(x.waitMillis());
                out.writeLong(x.leaseMillis());
            });
        }
    }

    static void invocation(Invocation inv, DataOutputStream out) throws IOException {
        out.writeUTF(inv.sessionId());
        out.writeLong(inv.seq());
        out.writeLong(inv.ackedBelow());
    }

    static void nullable(String s, DataOutputStream out) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    /**
     * Decodes a command.
     *
     * @throws CommandFormatException if the bytes are not exactly one well-formed command
     */
    public static Command decode(byte[] bytes) throws CommandFormatException {
        return decodeEnvelope(bytes).command();
    }

    /**
     * Decodes a command and its sender's identity (null for format {@value #FORMAT}).
     *
     * @throws CommandFormatException if the bytes are not exactly one well-formed command
     */
    public static Command.Envelope decodeEnvelope(byte[] bytes) throws CommandFormatException {
        if (bytes == null || bytes.length == 0) {
            throw new CommandFormatException("empty command");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            int format = in.readUnsignedByte();
            String identity = null;
            if (format == FORMAT_AUTHORED) {
                identity = in.readUTF();
                if (identity.length() > MAX_IDENTITY) {
                    throw new CommandFormatException("identity is longer than " + MAX_IDENTITY + " characters");
                }
            } else if (format != FORMAT) {
                throw new CommandFormatException("unknown command format " + format, true);
            }
            int type = in.readUnsignedByte();
            long time = in.readLong();
            Command c = read(type, in);
            if (in.available() != 0) {
                throw new CommandFormatException(in.available() + " trailing bytes after the command");
            }
            return new Command.Envelope(time, identity, c);
        } catch (CommandFormatException e) {
            throw e;
        } catch (EOFException e) {
            throw new CommandFormatException("command is truncated");
        } catch (UTFDataFormatException e) {
            throw new CommandFormatException("command holds malformed text");
        } catch (IOException e) {
            throw new CommandFormatException("command cannot be read: " + e.getMessage());
        }
    }

    /**
     * Every command type: its byte in the log and the protocol version that introduced it ({@link
     * Vocabulary}: a command of version N is logged only once every member speaks N). A new command
     * gets a constant here, with the next byte and the version it needs, because {@code CommandTypes#TYPE} does
     * not compile without one and {@link #read}'s switch does not compile until it reads it.
     *
     * <p>Version history: 1, the first build that reports its version (command types 1 to 13,
     * snapshot format 3). Builds before it did not report and were never released. 2, the multi-lock:
     * command type 14 ({@link Command.AcquireAll}), the reply it remembers, and snapshot format 4
     * (written only while the table holds a multi-lock's wait or remembered reply, which it can only
     * once the cluster speaks 2; otherwise a version-2 build still writes format 3). 3, an
     * operator's end of a session: command type 15 ({@link Command.EndSession}), no new snapshot
     * format. 4, a fenced register write whose fence must be the writing session's own grant:
     * command type 16, the fields of type 10 unchanged, decoded to a {@link RegisterSet} with
     * {@code ownFence} set; type 10 keeps its meaning (any current grant) for ever, so old entries
     * replay the same. No new snapshot format: a snapshot holds registers and grants, not the
     * commands that wrote them. 5, the deny list of bearer tokens: command type 17 ({@link
     * Command.RevokeToken}) and snapshot format 5 (written only while the list holds an id). 6, keys:
     * command type 18 (a {@link RegisterSet} that attaches the key to its session or gives it a time
     * to live: the fields of type 16, then attach and the time to live), 19 ({@link
     * KeyDelete}), 20 ({@link CounterAdd}), 21 ({@link Transaction}), each
     * written by {@link KeyCodec}; the replies they remember and snapshot format 6 (written only while
     * a key is attached or has a time to live, or such a reply is remembered). 7, the quotas while
     * access control is off: command type 22 ({@link Command.SetQuotas}, written by {@link
     * AdmissionCodec} as the access rules are) and snapshot format 7 (written only while those
     * quotas are not the defaults). 8, a put that keeps its key's lifetime (issue 70): command type
     * 23 (a {@link RegisterSet} of {@link io.holdfast.PutOptions.Lifetime#KEEP}, the fields of type
     * 16) and 24 (a {@link Transaction} whose puts carry a lifetime byte, written by {@link
     * KeyCodec}); types 10, 16, 18 and 21 keep their meaning (a put that does not attach detaches).
     * A write of type 23 fenced by the lock of its own name is an election's record ({@link
     * ElectionRecords}): snapshot format 8, written only while the table holds one. 9, a page of a
     * prefix delete: command type 25 ({@link io.holdfast.model.KeyDeletePrefix}, written by {@link
     * KeyCodec}); it remembers an {@link io.holdfast.model.Reply.Ok}, so no new snapshot format. 10,
     * shared leases (ADR 0006): command type 26 (a {@link Transaction} whose puts carry their
     * lifetime and a lease, written by {@link KeyCodec}); a key's owner was already any session, so
     * no new snapshot format.
     */
    enum Type {
        OPEN_SESSION(1, 1),
        KEEP_ALIVE(2, 1),
        CLOSE_SESSION(3, 1),
        EXPIRE_SESSION(4, 1),
        ACQUIRE(5, 1),
        RELEASE(6, 1),
        RENEW(7, 1),
        CANCEL_WAIT(8, 1),
        TICK(9, 1),
        REGISTER_SET(10, 1),
        REVOKE(11, 1),
        SET_ACCESS_RULES(12, 1),
        REPORT_VERSION(13, 1),
        /** The multi-lock, the first command of protocol version 2. */
        ACQUIRE_ALL(14, 2),
        /** An operator's end of a session, the command of protocol version 3. */
        END_SESSION(15, 3),
        /**
         * A register write fenced by the writing session's own grant, the command of protocol
         * version 4; its bytes are those of {@link #REGISTER_SET} after the type byte.
         */
        REGISTER_SET_OWN_FENCE(16, 4),
        /** A bearer token put on the deny list, the command of protocol version 5. */
        REVOKE_TOKEN(17, 5),
        /** A register write that attaches the key or gives it a time to live: protocol version 6. */
        KEY_PUT(18, 6),
        /** A key deleted, protocol version 6. */
        KEY_DELETE(19, 6),
        /** A counter added to, protocol version 6. */
        COUNTER_ADD(20, 6),
        /** A transaction over keys, protocol version 6. */
        TRANSACTION(21, 6),
        /** The quotas while access control is off, the command of protocol version 7. */
        SET_QUOTAS(22, 7),
        /**
         * A register write that keeps the key's lifetime (its session, its deadline), protocol
         * version 8; its bytes are those of {@link #REGISTER_SET_OWN_FENCE} after the type byte.
         */
        KEY_PUT_KEEP(23, 8),
        /** A transaction with a put that keeps its key's lifetime, protocol version 8. */
        TRANSACTION_LIFETIMES(24, 8),
        /** A page of a prefix delete, the command of protocol version 9. */
        KEY_DELETE_PREFIX(25, 9),
        /** A transaction with a put that names a lease (ADR 0006), protocol version 10. */
        TRANSACTION_LEASES(26, 10);

        /** The type byte. */
        final int code;
        /** The protocol version that introduced it. */
        final int since;

        private static final Type[] BY_CODE = byCode();

        Type(int code, int since) {
            this.code = code;
            this.since = since;
        }

        /** The type of this byte, or null for one this build does not know. */
        static Type of(int code) {
            return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
        }

        private static Type[] byCode() {
            Type[] all = values();
            Type[] by = new Type[all[all.length - 1].code + 1];
            for (Type t : all) {
                if (t.code < 1 || t.code > 255 || by[t.code] != null || t.since < 1) {
                    throw new IllegalStateException("command type " + t + " has a bad or repeated byte or version");
                }
                by[t.code] = t;
            }
            return by;
        }
    }

    /** The highest command type this build reads; {@link #read} knows every type from 1 to it. */
    static final int LAST_TYPE = Type.values()[Type.values().length - 1].code;

    /**
     * The most names an {@link Command.AcquireAll} entry may carry: a bound on what a damaged or
     * hostile entry makes a replica allocate, above the table's own limit so that the table, not
     * the codec, refuses a long list with its usual message.
     */
    private static final int MAX_NAMES = 4 * Limits.MAX_MULTI_NAMES;

    /**
     * Whether the command's format and type are ones this build reads, looking at those two fields
     * only (cheap: the leader checks every entry with it before the entry is logged). False also
     * for bytes too short to say.
     */
    public static boolean knownKind(byte[] bytes) {
        int type = type(bytes);
        return type >= 1 && type <= LAST_TYPE;
    }

    /**
     * The type byte {@link #encode} writes for this command, without encoding it (the leader looks
     * it up for every command it is asked to log).
     */
    public static int typeOf(Command c) {
        return c.accept(CommandTypes.TYPE).code;
    }

    /**
     * The command's type byte, read from its format and type fields only; -1 for an unknown
     * format or bytes too short to say.
     */
    public static int type(byte[] bytes) {
        if (bytes == null || bytes.length < 2) {
            return -1;
        }
        int format = bytes[0] & 0xff;
        int at = 1;
        if (format == FORMAT_AUTHORED) {
            if (bytes.length < 3) {
                return -1;
            }
            at = 3 + (((bytes[1] & 0xff) << 8) | (bytes[2] & 0xff)); // skip the identity (writeUTF)
        } else if (format != FORMAT) {
            return -1;
        }
        if (at >= bytes.length) {
            return -1;
        }
        return bytes[at] & 0xff;
    }

    private static Command read(int code, DataInputStream in) throws IOException {
        Type type = Type.of(code);
        if (type == null) {
            throw new CommandFormatException("unknown command type " + code, true);
        }
        return switch (type) {
            case OPEN_SESSION -> new OpenSession(in.readUTF(), in.readUTF(), in.readLong(), in.readLong());
            case KEEP_ALIVE -> new KeepAlive(in.readUTF());
            case CLOSE_SESSION -> new CloseSession(invocation(in));
            case EXPIRE_SESSION -> new ExpireSession(in.readUTF());
            case ACQUIRE -> acquire(in);
            case RELEASE -> new Release(invocation(in), in.readUTF(), in.readLong());
            case RENEW -> new Renew(invocation(in), in.readUTF(), in.readLong());
            case CANCEL_WAIT -> new CancelWait(invocation(in), in.readUTF(), in.readLong());
            case TICK -> new Tick();
            case REGISTER_SET -> registerSet(in, false);
            case REGISTER_SET_OWN_FENCE -> registerSet(in, true);
            case KEY_PUT -> KeyCodec.leasedSet(registerSet(in, true), in);
            case KEY_PUT_KEEP -> registerSet(in, true).withLifetime(io.holdfast.PutOptions.Lifetime.KEEP);
            case KEY_DELETE, COUNTER_ADD, TRANSACTION, TRANSACTION_LIFETIMES, TRANSACTION_LEASES, KEY_DELETE_PREFIX ->
                KeyCodec.read(type, in);
            case REVOKE -> new Revoke(in.readUTF());
            case SET_ACCESS_RULES -> AdmissionCodec.readRules(in);
            case REPORT_VERSION -> new Command.ReportVersion(in.readUTF(), in.readInt());
            case END_SESSION -> new Command.EndSession(in.readUTF());
            case REVOKE_TOKEN -> new Command.RevokeToken(in.readUTF(), in.readLong());
            case SET_QUOTAS -> AdmissionCodec.readQuotas(in);
            case ACQUIRE_ALL ->
                new Command.AcquireAll(
                        invocation(in),
                        names(in),
                        mode(in.readUnsignedByte()),
                        in.readLong(),
                        in.readLong(),
                        in.readLong());
        };
    }

    static RegisterSet registerSet(DataInputStream in, boolean ownFence) throws IOException {
        return new RegisterSet(
                invocation(in), in.readUTF(), in.readLong(), value(in), nullable(in), in.readLong(), ownFence);
    }

    private static Acquire acquire(DataInputStream in) throws IOException {
        Acquire a = new Acquire(
                invocation(in),
                in.readUTF(),
                mode(in.readUnsignedByte()),
                in.readInt(),
                in.readInt(),
                in.readLong(),
                in.readLong(),
                in.readLong());
        if (bool(in.readUnsignedByte())) {
            // Older builds gave an owner that held the lock another hold count on its grant. This
            // build has no such grants (reentrancy is the client's LeaseLock view): applying the
            // entry otherwise would leave this replica's table unlike theirs, so the replica stops
            // on it as on a command it does not know. No Holdfast client ever sent one.
            throw new CommandFormatException(
                    "a reentrant acquire, which builds before this one applied and this one does not", true);
        }
        return a;
    }

    private static java.util.List<String> names(DataInputStream in) throws IOException {
        int n = in.readUnsignedShort();
        if (n > MAX_NAMES) {
            throw new CommandFormatException("a multi-lock of " + n + " names is out of bounds");
        }
        java.util.List<String> names = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(in.readUTF());
        }
        return names;
    }

    static Invocation invocation(DataInputStream in) throws IOException {
        return new Invocation(in.readUTF(), in.readLong(), in.readLong());
    }

    static byte[] value(DataInputStream in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > MAX_VALUE) {
            throw new CommandFormatException("register value length " + length + " is out of bounds");
        }
        byte[] value = in.readNBytes(length);
        if (value.length != length) {
            throw new EOFException();
        }
        return value;
    }

    static String nullable(DataInputStream in) throws IOException {
        return bool(in.readUnsignedByte()) ? in.readUTF() : null;
    }

    static boolean bool(int b) throws CommandFormatException {
        if (b > 1) {
            throw new CommandFormatException("bad boolean " + b);
        }
        return b == 1;
    }

    private static LockMode mode(int ordinal) throws CommandFormatException {
        if (ordinal >= LockMode.values().length) {
            throw new CommandFormatException("unknown lock mode " + ordinal);
        }
        return LockMode.values()[ordinal];
    }
}
