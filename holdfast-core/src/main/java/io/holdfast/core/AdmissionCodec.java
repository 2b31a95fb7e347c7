package io.holdfast.core;

import io.holdfast.InvalidArgumentException;
import io.holdfast.model.Command;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The log format of the commands that set what {@link Admission} keeps, after the type byte and
 * time that {@link CommandCodec} writes; its conventions (numbers big-endian, strings as {@link
 * DataOutputStream#writeUTF}, a boolean as one byte 0 or 1).
 *
 * <pre>
 * 12 SetAccessRules: present (bool), then the UTF-8 of the text: int length, bytes
 * 22 SetQuotas:      count (unsigned byte), then by name: name, value (long)
 * </pre>
 *
 * <p>Reading is total as {@link CommandCodec#decode} is: anything malformed raises {@link
 * CommandFormatException}. Rules longer than four times {@link AccessRules#MAX_TEXT} characters
 * could hold, and more than {@value #MAX_QUOTAS} quotas, are refused by the codec (a bound on what
 * a damaged entry makes a replica allocate); an unknown quota name or a value out of range decodes,
 * and the table refuses it with its usual message.
 */
final class AdmissionCodec {
    private static final int MAX_RULES_BYTES = 4 * AccessRules.MAX_TEXT;

    /** The most quotas an entry may carry: above the number of quotas, so that the table names a wrong one. */
    static final int MAX_QUOTAS = 64;

    private AdmissionCodec() {}

    static void writeRules(Command.SetAccessRules x, DataOutputStream out) throws IOException {
        out.writeBoolean(x.text() != null);
        if (x.text() != null) {
            byte[] text = x.text().getBytes(StandardCharsets.UTF_8);
            if (text.length > MAX_RULES_BYTES) {
                throw new InvalidArgumentException(
                        "access rules are " + text.length + " bytes; the limit is " + MAX_RULES_BYTES);
            }
            out.writeInt(text.length);
            out.write(text);
        }
    }

    static Command.SetAccessRules readRules(DataInputStream in) throws IOException {
        if (!CommandCodec.bool(in.readUnsignedByte())) {
            return new Command.SetAccessRules(null);
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
            return new Command.SetAccessRules(StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(text))
                    .toString());
        } catch (CharacterCodingException e) {
            throw new CommandFormatException("access rules are not UTF-8");
        }
    }

    static void writeQuotas(Command.SetQuotas x, DataOutputStream out) throws IOException {
        if (x.limits().size() > MAX_QUOTAS) {
            throw new InvalidArgumentException(
                    x.limits().size() + " quotas are more than there are (" + MAX_QUOTAS + ")");
        }
        out.writeByte(x.limits().size());
        for (Map.Entry<String, Long> e : x.limits().entrySet()) { // sorted by name
            out.writeUTF(e.getKey());
            out.writeLong(e.getValue());
        }
    }

    static Command.SetQuotas readQuotas(DataInputStream in) throws IOException {
        int n = in.readUnsignedByte();
        if (n > MAX_QUOTAS) {
            throw new CommandFormatException(n + " quotas are out of bounds");
        }
        Map<String, Long> limits = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            if (limits.put(in.readUTF(), in.readLong()) != null) {
                throw new CommandFormatException("a quota is named twice");
            }
        }
        return new Command.SetQuotas(limits);
    }
}
