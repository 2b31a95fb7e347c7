// Over 400 lines: the log format of every command (encode, a decode total over any bytes, the
// versions); issue 19 item 3 reshapes the commands and this with them.
package io.holdfast.core;

import io.holdfast.LockMode;
import io.holdfast.core.Command.Acquire;
import io.holdfast.core.Command.CancelWait;
import io.holdfast.core.Command.CloseSession;
import io.holdfast.core.Command.ExpireSession;
import io.holdfast.core.Command.Invocation;
import io.holdfast.core.Command.KeepAlive;
import io.holdfast.core.Command.OpenSession;
import io.holdfast.core.Command.RegisterSet;
import io.holdfast.core.Command.Release;
import io.holdfast.core.Command.Renew;
import io.holdfast.core.Command.Revoke;
import io.holdfast.core.Command.Tick;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UTFDataFormatException;
import java.io.UncheckedIOException;

/**
 * The binary form of a {@link Command}, as it is written to a replicated log: a format byte
 * ({@value #FORMAT}, or {@value #FORMAT_AUTHORED} followed by the sender's identity), a type byte, then the fields in declaration order (numbers big-endian, strings as {@link
 * DataOutputStream#writeUTF}, a nullable string as a presence byte and the string).
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

    private static final int MAX_RULES_BYTES = 4 * AccessRules.MAX_TEXT;

    private CommandCodec() {}

    /**
     * Encodes a command.
     *
     * @throws io.holdfast.InvalidArgumentException if one of its strings is longer than 65,535
     *     bytes of (modified) UTF-8, which this format cannot hold; every such string is far over
     *     the table's own limits, so the command would be refused anyway
     */
    public static byte[] encode(Command command) {
        return encode(Command.Authored.anonymous(command));
    }

    /**
     * Encodes a command with its sender's identity: in format {@value #FORMAT_AUTHORED} when the
     * identity is not null, else exactly as {@link #encode(Command)}.
     *
     * @throws io.holdfast.InvalidArgumentException as {@link #encode(Command)}, or if the identity
     *     is longer than {@value #MAX_IDENTITY} characters
     */
    public static byte[] encode(Command.Authored authored) {
        Command command = authored.command();
        String identity = authored.identity();
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
            write(command, out);
        } catch (java.io.UTFDataFormatException e) {
            throw new io.holdfast.InvalidArgumentException("a name, id or client name of the "
                    + command.getClass().getSimpleName() + " command is longer than 65535 bytes of UTF-8");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void write(Command c, DataOutputStream out) throws IOException {
        if (c instanceof OpenSession x) {
            out.writeByte(1);
            out.writeLong(x.time());
            out.writeUTF(x.sessionId());
            out.writeUTF(x.clientName());
            out.writeLong(x.ttlMillis());
            out.writeLong(x.lockDelayMillis());
        } else if (c instanceof KeepAlive x) {
            out.writeByte(2);
            out.writeLong(x.time());
            out.writeUTF(x.sessionId());
        } else if (c instanceof CloseSession x) {
            out.writeByte(3);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
        } else if (c instanceof ExpireSession x) {
            out.writeByte(4);
            out.writeLong(x.time());
            out.writeUTF(x.sessionId());
        } else if (c instanceof Acquire x) {
            out.writeByte(5);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            out.writeUTF(x.name());
            out.writeByte(x.mode().ordinal());
            out.writeInt(x.permits());
            out.writeInt(x.maxPermits());
            out.writeLong(x.owner());
            out.writeLong(x.waitMillis());
            out.writeLong(x.leaseMillis());
            out.writeBoolean(x.reentrant());
        } else if (c instanceof Release x) {
            out.writeByte(6);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            out.writeUTF(x.name());
            out.writeLong(x.token());
        } else if (c instanceof Renew x) {
            out.writeByte(7);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            out.writeUTF(x.name());
            out.writeLong(x.token());
        } else if (c instanceof CancelWait x) {
            out.writeByte(8);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            out.writeUTF(x.name());
            out.writeLong(x.waitSeq());
        } else if (c instanceof Tick x) {
            out.writeByte(9);
            out.writeLong(x.time());
        } else if (c instanceof RegisterSet x) {
            out.writeByte(10);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            out.writeUTF(x.key());
            out.writeLong(x.expectedVersion());
            out.writeInt(x.value().length);
            out.write(x.value());
            nullable(x.fenceName(), out);
            out.writeLong(x.fenceToken());
        } else if (c instanceof Revoke x) {
            out.writeByte(11);
            out.writeLong(x.time());
            out.writeUTF(x.name());
        } else if (c instanceof Command.SetAccessRules x) {
            out.writeByte(12);
            out.writeLong(x.time());
            out.writeBoolean(x.text() != null);
            if (x.text() != null) {
                byte[] text = x.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (text.length > MAX_RULES_BYTES) {
                    throw new io.holdfast.InvalidArgumentException(
                            "access rules are " + text.length + " bytes; the limit is " + MAX_RULES_BYTES);
                }
                out.writeInt(text.length);
                out.write(text);
            }
        } else if (c instanceof Command.ReportVersion x) {
            out.writeByte(13);
            out.writeLong(x.time());
            out.writeUTF(x.member());
            out.writeInt(x.version());
        } else if (c instanceof Command.AcquireAll x) {
            out.writeByte(14);
            out.writeLong(x.time());
            invocation(x.invocation(), out);
            if (x.names().size() > MAX_NAMES) {
                throw new io.holdfast.InvalidArgumentException("a multi-lock takes at most " + Limits.MAX_MULTI_NAMES
                        + " names, not " + x.names().size());
            }
            out.writeShort(x.names().size());
            for (String name : x.names()) {
                out.writeUTF(name);
            }
            out.writeByte(x.mode().ordinal());
            out.writeLong(x.owner());
            out.writeLong(x.waitMillis());
            out.writeLong(x.leaseMillis());
        } else {
            throw new IllegalArgumentException("unknown command " + c);
        }
    }

    private static void invocation(Invocation inv, DataOutputStream out) throws IOException {
        out.writeUTF(inv.sessionId());
        out.writeLong(inv.seq());
        out.writeLong(inv.ackedBelow());
    }

    private static void nullable(String s, DataOutputStream out) throws IOException {
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
        return decodeAuthored(bytes).command();
    }

    /**
     * Decodes a command and its sender's identity (null for format {@value #FORMAT}).
     *
     * @throws CommandFormatException if the bytes are not exactly one well-formed command
     */
    public static Command.Authored decodeAuthored(byte[] bytes) throws CommandFormatException {
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
            Command c = read(in);
            if (in.available() != 0) {
                throw new CommandFormatException(in.available() + " trailing bytes after the command");
            }
            return new Command.Authored(identity, c);
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

    /** The highest command type this build reads; {@link #read} knows every type from 1 to it. */
    static final int LAST_TYPE = 14;

    /** The type byte of {@link Command.AcquireAll}, the first command of protocol version 2. */
    static final int ACQUIRE_ALL = 14;

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
        if (c instanceof Acquire) {
            return 5;
        } else if (c instanceof Release) {
            return 6;
        } else if (c instanceof Renew) {
            return 7;
        } else if (c instanceof Command.AcquireAll) {
            return ACQUIRE_ALL;
        }
        return type(encode(c));
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

    private static Command read(DataInputStream in) throws IOException {
        int type = in.readUnsignedByte();
        long time = in.readLong();
        return switch (type) {
            case 1 -> new OpenSession(time, in.readUTF(), in.readUTF(), in.readLong(), in.readLong());
            case 2 -> new KeepAlive(time, in.readUTF());
            case 3 -> new CloseSession(time, invocation(in));
            case 4 -> new ExpireSession(time, in.readUTF());
            case 5 ->
                new Acquire(
                        time,
                        invocation(in),
                        in.readUTF(),
                        mode(in.readUnsignedByte()),
                        in.readInt(),
                        in.readInt(),
                        in.readLong(),
                        in.readLong(),
                        in.readLong(),
                        bool(in.readUnsignedByte()));
            case 6 -> new Release(time, invocation(in), in.readUTF(), in.readLong());
            case 7 -> new Renew(time, invocation(in), in.readUTF(), in.readLong());
            case 8 -> new CancelWait(time, invocation(in), in.readUTF(), in.readLong());
            case 9 -> new Tick(time);
            case 10 ->
                new RegisterSet(
                        time, invocation(in), in.readUTF(), in.readLong(), value(in), nullable(in), in.readLong());
            case 11 -> new Revoke(time, in.readUTF());
            case 12 -> new Command.SetAccessRules(time, rules(in));
            case 13 -> new Command.ReportVersion(time, in.readUTF(), in.readInt());
            case 14 ->
                new Command.AcquireAll(
                        time,
                        invocation(in),
                        names(in),
                        mode(in.readUnsignedByte()),
                        in.readLong(),
                        in.readLong(),
                        in.readLong());
            default -> throw new CommandFormatException("unknown command type " + type, true);
        };
    }

    private static String rules(DataInputStream in) throws IOException {
        if (!bool(in.readUnsignedByte())) {
            return null;
        }
        int length = in.readInt();
        if (length < 0 || length > MAX_RULES_BYTES) {
            throw new CommandFormatException("access rules length " + length + " is out of bounds");
        }
        byte[] text = in.readNBytes(length);
        if (text.length != length) {
            throw new EOFException();
        }
        try {
            return java.nio.charset.StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(text))
                    .toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new CommandFormatException("access rules are not UTF-8");
        }
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

    private static Invocation invocation(DataInputStream in) throws IOException {
        return new Invocation(in.readUTF(), in.readLong(), in.readLong());
    }

    private static byte[] value(DataInputStream in) throws IOException {
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

    private static String nullable(DataInputStream in) throws IOException {
        return bool(in.readUnsignedByte()) ? in.readUTF() : null;
    }

    private static boolean bool(int b) throws CommandFormatException {
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
