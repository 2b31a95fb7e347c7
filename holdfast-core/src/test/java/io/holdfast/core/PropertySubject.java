package io.holdfast.core;

import io.holdfast.LockInfo;
import io.holdfast.model.Command;
import io.holdfast.model.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The system under test of {@link PropertyChecker}: a {@link LockTable}, or a wrapper around one
 * with a planted bug (to prove that the checker notices).
 */
interface PropertySubject {
    /** Applies {@code command} at cluster time {@code time}, as {@link LockTable#apply(long, Command, EventSink)}. */
    Reply apply(long time, Command command, EventSink events);

    /** The whole state, for comparison and invariants. */
    ModelView view();

    /** {@link LockTable#nextDeadline()}. */
    long nextDeadline();

    /** What operators see: {@link LockTable#list} of everything, at the table's clock. */
    List<LockInfo> list();

    /** {@link LockTable#describe} of one name. */
    java.util.Optional<LockInfo> describe(String name);

    byte[] snapshot();

    /** A new subject read from {@code snapshot}, as a replica that installs it would be. */
    PropertySubject restore(byte[] snapshot);

    static PropertySubject of(LockTable table) {
        return new Table(table);
    }

    /** The real table. */
    record Table(LockTable table) implements PropertySubject {
        @Override
        public Reply apply(long time, Command command, EventSink events) {
            return table.apply(time, command, events);
        }

        @Override
        public ModelView view() {
            return ModelView.of(table);
        }

        @Override
        public long nextDeadline() {
            return table.nextDeadline();
        }

        @Override
        public List<LockInfo> list() {
            return table.list("", Integer.MAX_VALUE, 0);
        }

        @Override
        public java.util.Optional<LockInfo> describe(String name) {
            return table.describe(name, 0);
        }

        @Override
        public byte[] snapshot() {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                table.writeSnapshot(out);
                return out.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public PropertySubject restore(byte[] snapshot) {
            try {
                return new Table(LockTable.readSnapshot(new ByteArrayInputStream(snapshot)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
