package io.holdfast.protocol.frame;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.ReplyMessage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reader of a frames connection holds the writer's turn while it hands out the answers one read
 * brought: the requests their callers send meanwhile leave in one write, not one write each. The
 * server here is a socket that speaks the frames format by hand, so that the test controls what one
 * read brings.
 */
class FrameChannelHoldTest {
    private static final int CALLS = 8;

    /** Reads one call frame and returns its call number. */
    private static long readCall(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte type = in.readByte();
        assertThat(type).isIn(Frames.CALL, Frames.CALL_WITH_HEADERS);
        long id = in.readLong();
        in.readFully(new byte[length - 9]);
        return id;
    }

    private static void put(ByteArrayOutputStream bytes, ByteBuffer frame) {
        bytes.write(frame.array(), frame.arrayOffset() + frame.position(), frame.remaining());
    }

    /** An observer that runs {@code then} when its call completes (on the reader thread: no executor). */
    private static StreamObserver<ReplyMessage> completing(Runnable then) {
        return new StreamObserver<>() {
            @Override
            public void onNext(ReplyMessage value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {
                then.run();
            }
        };
    }

    @Test
    void requestsSentWhileTheReaderHandsOutOneReadsAnswersLeaveInOneWrite() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            FrameChannel channel = new FrameChannel("127.0.0.1", server.getLocalPort(), 1 << 20);
            try {
                HoldfastGrpc.HoldfastStub stub = HoldfastGrpc.newStub(channel);
                CommandRequest request = CommandRequest.getDefaultInstance();
                for (int i = 0; i < CALLS; i++) {
                    // Each answer's callback (on the reader thread: no executor) sends the next request.
                    stub.submit(request, completing(() -> stub.submit(request, completing(() -> {}))));
                }
                try (Socket s = server.accept()) {
                    s.setSoTimeout(10_000);
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    in.readFully(new byte[Frames.PREFACE.length]);
                    List<Long> ids = new ArrayList<>();
                    for (int i = 0; i < CALLS; i++) {
                        ids.add(readCall(in));
                    }
                    long before = channel.socketWrites();
                    ByteArrayOutputStream answers = new ByteArrayOutputStream();
                    for (long id : ids) {
                        put(
                                answers,
                                Frames.message(id, HoldfastGrpc.getSubmitMethod(), ReplyMessage.getDefaultInstance()));
                        put(answers, Frames.close(id, Status.OK, new Metadata()));
                    }
                    OutputStream out = s.getOutputStream();
                    out.write(answers.toByteArray()); // one write: one read at the client, as a rule
                    out.flush();
                    for (int i = 0; i < CALLS; i++) {
                        readCall(in);
                    }
                    // One write for the eight; two if the client's read split the answers.
                    assertThat(channel.socketWrites() - before)
                            .as("writes of the %d requests sent while the reader handed out answers", CALLS)
                            .isLessThanOrEqualTo(2);
                }
            } finally {
                channel.shutdownNow();
            }
        }
    }
}
