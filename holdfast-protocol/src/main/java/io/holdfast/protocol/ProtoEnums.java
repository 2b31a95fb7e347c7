package io.holdfast.protocol;

import io.holdfast.ErrorCode;
import io.holdfast.InvalidArgumentException;
import io.holdfast.LockMode;
import io.holdfast.model.Event;
import io.holdfast.protocol.v1.LostReason;

/**
 * The enums of the protocol and their model twins. Each switch is exhaustive over the core enum, so
 * a value added in the model fails to compile here until the protocol has it too; reading refuses the
 * unspecified value and values this build does not know.
 */
final class ProtoEnums {
    private ProtoEnums() {}

    static io.holdfast.protocol.v1.LockMode toProto(LockMode mode) {
        if (mode == null) {
            throw new InvalidArgumentException("a lock mode must not be null");
        }
        return switch (mode) {
            case EXCLUSIVE -> io.holdfast.protocol.v1.LockMode.EXCLUSIVE;
            case SHARED -> io.holdfast.protocol.v1.LockMode.SHARED;
            case PERMITS -> io.holdfast.protocol.v1.LockMode.PERMITS;
        };
    }

    static LockMode fromProto(io.holdfast.protocol.v1.LockMode mode, String field) {
        return switch (mode) {
            case EXCLUSIVE -> LockMode.EXCLUSIVE;
            case SHARED -> LockMode.SHARED;
            case PERMITS -> LockMode.PERMITS;
            case LOCK_MODE_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException(field + " is " + mode + ", not one of EXCLUSIVE, SHARED, PERMITS");
        };
    }

    static io.holdfast.protocol.v1.ErrorCode toProto(ErrorCode code) {
        if (code == null) {
            throw new InvalidArgumentException("an error code must not be null");
        }
        return switch (code) {
            case TIMEOUT -> io.holdfast.protocol.v1.ErrorCode.TIMEOUT;
            case NOT_OWNER -> io.holdfast.protocol.v1.ErrorCode.NOT_OWNER;
            case LOCK_LOST -> io.holdfast.protocol.v1.ErrorCode.LOCK_LOST;
            case SESSION_EXPIRED -> io.holdfast.protocol.v1.ErrorCode.SESSION_EXPIRED;
            case DEADLOCK -> io.holdfast.protocol.v1.ErrorCode.DEADLOCK;
            case CONFLICT -> io.holdfast.protocol.v1.ErrorCode.CONFLICT;
            case UNAVAILABLE -> io.holdfast.protocol.v1.ErrorCode.UNAVAILABLE;
            case INVALID_ARGUMENT -> io.holdfast.protocol.v1.ErrorCode.INVALID_ARGUMENT;
            case UNSUPPORTED -> io.holdfast.protocol.v1.ErrorCode.UNSUPPORTED;
            case PERMISSION_DENIED -> io.holdfast.protocol.v1.ErrorCode.PERMISSION_DENIED;
            case QUOTA_EXCEEDED -> io.holdfast.protocol.v1.ErrorCode.QUOTA_EXCEEDED;
        };
    }

    static ErrorCode fromProto(io.holdfast.protocol.v1.ErrorCode code) {
        return switch (code) {
            case TIMEOUT -> ErrorCode.TIMEOUT;
            case NOT_OWNER -> ErrorCode.NOT_OWNER;
            case LOCK_LOST -> ErrorCode.LOCK_LOST;
            case SESSION_EXPIRED -> ErrorCode.SESSION_EXPIRED;
            case DEADLOCK -> ErrorCode.DEADLOCK;
            case CONFLICT -> ErrorCode.CONFLICT;
            case UNAVAILABLE -> ErrorCode.UNAVAILABLE;
            case INVALID_ARGUMENT -> ErrorCode.INVALID_ARGUMENT;
            case UNSUPPORTED -> ErrorCode.UNSUPPORTED;
            case PERMISSION_DENIED -> ErrorCode.PERMISSION_DENIED;
            case QUOTA_EXCEEDED -> ErrorCode.QUOTA_EXCEEDED;
            case ERROR_CODE_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException("failed.code is " + code + ", not a known error code");
        };
    }

    static LostReason toProto(Event.Reason reason) {
        if (reason == null) {
            throw new InvalidArgumentException("a loss reason must not be null");
        }
        return switch (reason) {
            case SESSION_EXPIRED -> LostReason.LOST_SESSION_EXPIRED;
            case LEASE_TIMEOUT -> LostReason.LOST_LEASE_TIMEOUT;
            case REVOKED -> LostReason.LOST_REVOKED;
        };
    }

    static Event.Reason fromProto(LostReason reason) {
        return switch (reason) {
            case LOST_SESSION_EXPIRED -> Event.Reason.SESSION_EXPIRED;
            case LOST_LEASE_TIMEOUT -> Event.Reason.LEASE_TIMEOUT;
            case LOST_REVOKED -> Event.Reason.REVOKED;
            case LOST_REASON_UNSPECIFIED, UNRECOGNIZED ->
                throw new InvalidArgumentException("lost.reason is " + reason + ", not a known reason");
        };
    }
}
