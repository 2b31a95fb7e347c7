package io.holdfast.model;

/**
 * The key commands of protocol version 6 ({@link KeyDelete}, {@link CounterAdd}, {@link
 * Transaction}) and 9 ({@link KeyDeletePrefix}): client commands with an invocation, which {@link
 * Command.ClientVisitor#keys} treats alike and a {@link Visitor} tells apart.
 */
public sealed interface KeyCommand extends Command.ClientCommand
        permits KeyDelete, CounterAdd, Transaction, KeyDeletePrefix {
    /**
     * One method per key command: the commands of protocol version 6 that delete, count and change
     * several keys at once. A visitor that treats them all alike (every one is a client command
     * with an invocation) says so once, in {@link Command.ClientVisitor#keys}; one that treats them
     * apart visits them with this.
     *
     * @param <R> what the visit gives back
     */
    interface Visitor<R> {
        R keyDelete(KeyDelete c);

        R counterAdd(CounterAdd c);

        R transaction(Transaction c);

        /** A page of a prefix delete (protocol version 9). */
        R keyDeletePrefix(KeyDeletePrefix c);
    }

    /** Calls the visitor's method for this command's type. */
    <R> R accept(Visitor<R> visitor);

    @Override
    default <R> R accept(Command.ClientVisitor<R> visitor) {
        return visitor.keys(this);
    }
}
