package io.holdfast.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.holdfast.ClientOptions;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.protocol.v1.CommandRequest;
import io.holdfast.protocol.v1.HoldfastGrpc;
import io.holdfast.protocol.v1.OpenSession;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.awaitility.Awaitility;

/**
 * Hostile input against a real three-node cluster: random protobuf commands (built field by field
 * from the schema, biased towards edge values and towards a session that exists), random bytes
 * sent as the body of every RPC, and random bytes on the client and HTTP ports. Every call must
 * get an answer in time with a status that is not a server fault ({@code UNKNOWN}, {@code
 * INTERNAL}); after each property, a well-behaved client is still served and every replica has
 * the same table at the same index.
 */
class HostileInputTest {
    private static final String SESSION = "hostile-session-000000001";
    private static final Set<Status.Code> SERVER_FAULTS =
            EnumSet.of(Status.Code.UNKNOWN, Status.Code.INTERNAL, Status.Code.DEADLINE_EXCEEDED);

    private static TestCluster cluster;
    private static ManagedChannel channel;

    @BeforeContainer
    static void start() throws Exception {
        cluster = new TestCluster(3, java.util.Set.of(), null, null, true);
        int leader = cluster.awaitLeader(Duration.ofSeconds(20));
        channel = NettyChannelBuilder.forAddress(
                        "127.0.0.1", cluster.node(leader).clientPort())
                .usePlaintext()
                .build();
        var reply = HoldfastGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .submit(CommandRequest.newBuilder()
                        .setOpenSession(OpenSession.newBuilder()
                                .setSessionId(SESSION)
                                .setClientName("hostile")
                                .setTtlMillis(600_000))
                        .build());
        assertThat(reply.hasOk()).as(reply.toString()).isTrue();
    }

    @AfterContainer
    static void stop() throws Exception {
        channel.shutdownNow();
        cluster.close();
    }

    @Property(tries = 300, seed = "20261122")
    void randomCommandsGetAnAnswerThatIsNotAServerFault(@ForAll long seed) {
        Random random = new Random(seed);
        CommandRequest.Builder b = CommandRequest.newBuilder();
        fill(b, CommandRequest.getDescriptor(), random, 0);
        CommandRequest request = b.build();
        Status status = call(HoldfastGrpc.getSubmitMethod(), request);
        assertThat(status.getCode())
                .as("answer %s to %s", status, abbreviate(request))
                .isNotIn(SERVER_FAULTS);
    }

    @Property(tries = 200, seed = "20261122")
    void randomBytesAsTheBodyOfAnyCallAreRefusedCleanly(@ForAll @Size(max = 300) byte[] body, @ForAll long pick) {
        List<MethodDescriptor<?, ?>> unary = List.of(
                HoldfastGrpc.getSubmitMethod(),
                HoldfastGrpc.getKeepAliveMethod(),
                HoldfastGrpc.getDescribeMethod(),
                HoldfastGrpc.getListMethod(),
                HoldfastGrpc.getIsCurrentHolderMethod(),
                HoldfastGrpc.getReadRegisterMethod());
        MethodDescriptor<?, ?> method = unary.get(Math.floorMod(pick, unary.size()));
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(method.getFullMethodName())
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
        Status status = call(raw, body);
        if (parses(method, body)) {
            assertThat(status.getCode())
                    .as("answer %s of %s to %d random bytes", status, method.getBareMethodName(), body.length)
                    .isNotIn(SERVER_FAULTS);
        } else {
            // Refused before the service, without a log line each (UnparsableRequests).
            assertThat(status.getCode())
                    .as(
                            "answer %s of %s to %d bytes that are not protobuf",
                            status, method.getBareMethodName(), body.length)
                    .isEqualTo(Status.Code.INVALID_ARGUMENT);
        }
    }

    @Property(tries = 40, seed = "20261122")
    void garbageOnTheClientPortLeavesTheServerServing(@ForAll @Size(min = 1, max = 2000) byte[] garbage) {
        int port = cluster.node(cluster.awaitLeader(Duration.ofSeconds(20))).clientPort();
        sendRaw(port, garbage);
    }

    /**
     * Writes the bytes to a fresh connection and reads until the server answers and closes, or
     * resets, or 2 s pass without a byte: none of these is the server's fault; hanging forever is.
     */
    private static void sendRaw(int port, byte[] bytes) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(2_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // drain whatever the server answers
            }
        } catch (IOException e) {
            // reset or timed out reading: the connection is this client's problem, not the server's
        }
    }

    @Property(tries = 40, seed = "20261123")
    void garbageOnTheHttpPortLeavesTheServerServing(
            @ForAll @Size(min = 1, max = 2000) byte[] garbage, @ForAll boolean asRequestLine) {
        int port = cluster.node(cluster.awaitLeader(Duration.ofSeconds(20))).httpPort();
        byte[] sent = garbage;
        if (asRequestLine) {
            // Past the request line, into the parser of headers and paths.
            byte[] head = "GET /status?".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            sent = java.util.Arrays.copyOf(head, head.length + garbage.length);
            System.arraycopy(garbage, 0, sent, head.length, garbage.length);
        }
        sendRaw(port, sent);
        for (int i = 0; i < cluster.size(); i++) {
            assertThat(httpStatus(cluster.node(i).httpPort(), "/health"))
                    .as("node %d's /health after garbage", i)
                    .isEqualTo(200);
        }
    }

    private static int httpStatus(int port, String path) {
        try {
            var client = java.net.http.HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5))
                    .build();
            return client.send(request, java.net.http.HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** After every property: a well-behaved client is served, and the replicas agree. */
    @AfterProperty
    void theClusterStillServesAndItsReplicasAgree() throws InterruptedException {
        try (LockClient client = LockClient.open(cluster.uri(), ClientOptions.defaults())) {
            try (Lease lease = client.lock("well-behaved").acquire(Duration.ofSeconds(20))) {
                assertThat(lease.fencingToken()).isPositive();
            }
        }
        Awaitility.await("every replica has the same table at the same index")
                .atMost(Duration.ofSeconds(20))
                .until(() -> {
                    String first = cluster.node(0).parts().machine().digest();
                    for (int i = 1; i < cluster.size(); i++) {
                        if (!cluster.node(i).parts().machine().digest().equals(first)) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    // ------------------------------------------------------------------------------ helpers

    private static <Q, R> Status call(MethodDescriptor<Q, R> method, Q request) {
        try {
            ClientCalls.blockingUnaryCall(
                    channel, method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    private static boolean parses(MethodDescriptor<?, ?> method, byte[] body) {
        try {
            method.parseRequest(new ByteArrayInputStream(body));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The request as text, with long strings cut, for failure messages. */
    private static String abbreviate(Message request) {
        return request.toString().replaceAll("([^\\n\"]{40})[^\\n\"]{40,}", "$1…");
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
    };

    /** Sets a random subset of the fields of {@code b}, recursing into messages up to depth 3. */
    private static void fill(Message.Builder b, Descriptor type, Random random, int depth) {
        List<FieldDescriptor> fields = new ArrayList<>(type.getFields());
        java.util.Collections.shuffle(fields, random);
        for (FieldDescriptor f : fields) {
            if (random.nextInt(3) == 0 || f.isRepeated()) {
                continue;
            }
            switch (f.getJavaType()) {
                case MESSAGE -> {
                    if (depth < 3) {
                        Message.Builder child = b.newBuilderForField(f);
                        fill(child, f.getMessageType(), random, depth + 1);
                        b.setField(f, child.build());
                    }
                }
                case STRING -> b.setField(f, string(random));
                case LONG -> b.setField(f, number(random));
                case INT -> b.setField(f, (int) number(random));
                case BOOLEAN -> b.setField(f, random.nextBoolean());
                case BYTE_STRING -> b.setField(f, ByteString.copyFrom(bytes(random)));
                case ENUM -> b.setField(f, enumValue(f.getEnumType(), random));
                default -> {
                    // no float, double or other fields in the protocol
                }
            }
        }
    }

    private static String string(Random random) {
        return switch (random.nextInt(10)) {
            case 0, 1, 2 -> SESSION;
            case 3 -> "";
            case 4 -> "a";
            case 5 -> "a/../b";
            case 6 -> "x".repeat(random.nextBoolean() ? 513 : 70_000);
            case 7 -> "\uD800bad-surrogate";
            case 8 -> "n\u0000ul";
            default -> Long.toHexString(random.nextLong());
        };
    }

    private static long number(Random random) {
        return switch (random.nextInt(9)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 1;
            case 3 -> Long.MAX_VALUE;
            case 4 -> Long.MIN_VALUE;
            case 5 -> Integer.MAX_VALUE;
            case 6 -> 1_000;
            case 7 -> 100_000_000_000L;
            default -> random.nextLong();
        };
    }

    private static byte[] bytes(Random random) {
        byte[] b = new byte[random.nextBoolean() ? random.nextInt(32) : 65_537];
        random.nextBytes(b);
        return b;
    }

    private static Object enumValue(EnumDescriptor type, Random random) {
        int n = random.nextInt(5) == 0
                ? 99 + random.nextInt(5)
                : random.nextInt(type.getValues().size());
        return type.findValueByNumberCreatingIfUnknown(
                n < type.getValues().size() ? type.getValues().get(n).getNumber() : n);
    }
}
