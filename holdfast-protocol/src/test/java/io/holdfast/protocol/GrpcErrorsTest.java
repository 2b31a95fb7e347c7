package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.holdfast.UnavailableException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {
    @Test
    void aCallAPoolRefusedAsTheServerShutsDownIsUnavailableNotAnInternalError() {
        // what a follower's forwarding pool throws once close() has shut it down, wrapped as a
        // CompletableFuture wraps it
        var status = GrpcErrors.toStatus(
                new CompletionException(new RejectedExecutionException("Task rejected from a terminated pool")));

        assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getStatus().getDescription()).isEqualTo(GrpcErrors.SHUTTING_DOWN);
        assertThat(status.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo("UNAVAILABLE");
        assertThat(GrpcErrors.toException(status, "n2"))
                .as("the client's exception: one it tries on another member")
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("shutting down");
    }

    @Test
    void anyOtherUnexpectedFailureStaysInternal() {
        var status = GrpcErrors.toStatus(new IllegalStateException("a bug"));

        assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(status.getTrailers()).isNull();
    }
}
