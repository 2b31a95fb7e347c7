package io.holdfast.model;

/** A value read from a register: its version and a copy of its bytes. */
public record RegisterValue(long version, byte[] value) {}
