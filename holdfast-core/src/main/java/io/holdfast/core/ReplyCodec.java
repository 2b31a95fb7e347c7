package io.holdfast.core;

import io.holdfast.ErrorCode;
import io.holdfast.model.Reply;
import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Binary form of {@link Reply}, used in snapshots (remembered replies) and by transports. */
public final class ReplyCodec {
    private static final int MAX_CYCLE = 10_000;

    private ReplyCodec() {}

    /** Something written to the output; the visitor wraps it. */
    private interface Writing {
        void write() throws IOException;
    }

    private static Void io(Writing w) {
        try {
            w.write();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return null;
    }

    public static void write(Reply reply, DataOutput out) throws IOException {
        try {
            reply.accept(new Reply.Visitor<Void>() {
                @Override
                public Void ok(Reply.Ok ok) {
                    return io(() -> {
                        out.writeByte(0);
                        out.writeLong(ok.value());
                    });
                }

                @Override
                public Void granted(Reply.Granted g) {
                    return io(() -> {
                        out.writeByte(1);
                        out.writeLong(g.token());
                        out.writeInt(1); // the hold count of builds that had reentrant grants
                    });
                }

                @Override
                public Void queued(Reply.Queued q) {
                    return io(() -> out.writeByte(2));
                }

                @Override
                public Void busy(Reply.Busy b) {
                    return io(() -> out.writeByte(3));
                }

                @Override
                public Void written(Reply.Written w) {
                    return io(() -> {
                        out.writeByte(4);
                        out.writeLong(w.version());
                    });
                }

                @Override
                public Void failed(Reply.Failed f) {
                    return io(() -> {
                        out.writeByte(5);
                        out.writeByte(f.code().ordinal());
                        out.writeUTF(truncate(f.message()));
                        out.writeInt(f.cycle().size());
                        for (String name : f.cycle()) {
                            out.writeUTF(name);
                        }
                        out.writeLong(f.currentVersion());
                    });
                }

                @Override
                public Void counted(Reply.Counted c) {
                    return io(() -> {
                        out.writeByte(7);
                        out.writeLong(c.value());
                        out.writeLong(c.version());
                    });
                }

                @Override
                public Void transacted(Reply.Transacted t) {
                    return io(() -> {
                        out.writeByte(8);
                        out.writeBoolean(t.succeeded());
                        out.writeShort(t.results().size());
                        for (Reply.OpResult r : t.results()) {
                            out.writeLong(r.version());
                            byte[] value = r.value();
                            out.writeInt(value == null ? -1 : value.length);
                            if (value != null) {
                                out.write(value);
                            }
                            out.writeLong(r.counter());
                        }
                    });
                }

                @Override
                public Void grantedAll(Reply.GrantedAll g) {
                    return io(() -> {
                        out.writeByte(6);
                        out.writeShort(g.tokens().size());
                        for (long token : g.tokens()) {
                            out.writeLong(token);
                        }
                    });
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Reads a reply; throws {@link SnapshotFormatException} for anything malformed. */
    public static Reply read(DataInput in) throws IOException {
        int type = in.readUnsignedByte();
        switch (type) {
            case 0:
                return new Reply.Ok(in.readLong());
            case 1: {
                long token = in.readLong();
                in.readInt(); // a hold count, of builds that had reentrant grants: not kept
                return new Reply.Granted(token);
            }
            case 2:
                return Reply.Queued.INSTANCE;
            case 3:
                return Reply.Busy.INSTANCE;
            case 4:
                return new Reply.Written(in.readLong());
            case 5:
                int code = in.readUnsignedByte();
                if (code >= ErrorCode.values().length) {
                    throw new SnapshotFormatException("unknown error code " + code);
                }
                String message = in.readUTF();
                int n = in.readInt();
                if (n < 0 || n > MAX_CYCLE) {
                    throw new SnapshotFormatException("bad cycle length " + n);
                }
                List<String> cycle = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    cycle.add(in.readUTF());
                }
                return new Reply.Failed(ErrorCode.values()[code], message, cycle, in.readLong());
            case 6:
                int tokens = in.readUnsignedShort();
                if (tokens > Limits.MAX_MULTI_NAMES) {
                    throw new SnapshotFormatException("a multi-lock grant of " + tokens + " tokens");
                }
                List<Long> list = new ArrayList<>(tokens);
                for (int i = 0; i < tokens; i++) {
                    list.add(in.readLong());
                }
                return new Reply.GrantedAll(list);
            case 7:
                return new Reply.Counted(in.readLong(), in.readLong());
            case 8:
                return transacted(in);
            default:
                throw new SnapshotFormatException("unknown reply type " + type);
        }
    }

    /** Reads a {@link Reply.Transacted} (type 8, protocol version 6). */
    private static Reply transacted(DataInput in) throws IOException {
        boolean succeeded = in.readBoolean();
        int n = in.readUnsignedShort();
        if (n > Limits.MAX_TXN_OPS) {
            throw new SnapshotFormatException("a transaction's answer of " + n + " results");
        }
        List<Reply.OpResult> results = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long version = in.readLong();
            int length = in.readInt();
            if (length < -1 || length > Limits.MAX_VALUE_BYTES) {
                throw new SnapshotFormatException("bad value length " + length + " in a transaction's answer");
            }
            byte[] value = null;
            if (length >= 0) {
                value = new byte[length];
                in.readFully(value);
            }
            results.add(new Reply.OpResult(version, value, in.readLong()));
        }
        return new Reply.Transacted(succeeded, results);
    }

    private static String truncate(String s) {
        return s.length() > 2000 ? s.substring(0, 2000) : s;
    }
}
