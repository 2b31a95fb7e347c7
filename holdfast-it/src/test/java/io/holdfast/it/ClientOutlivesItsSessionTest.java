package io.holdfast.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.holdfast.ClientOptions;
import io.holdfast.GroupMembership;
import io.holdfast.HoldfastException;
import io.holdfast.KeyEntry;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.LockLostException;
import io.holdfast.SessionExpiredException;
import io.holdfast.SessionListener;
import io.holdfast.Watch;
import io.holdfast.WatchEvent;
import io.holdfast.WatchListener;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java client outlives its session (ADR 0004, issue 70 item 1), against a real {@code holdfast
 * server} process: the single node is SIGKILLed, stays down for more than the client's TTL, and is
 * started again from its data. The client hears {@code lost}, then {@code reestablished} with a new
 * id; its group member is joined again within 5 s of the node's return (once the service has
 * expired the lost session, which held the name); its watch never ended and saw the member's
 * return; the lock it held stays lost, and a new acquire gets a larger token. With {@code
 * ?renewSessions=false} the client ends with its session, as before.
 */
class ClientOutlivesItsSessionTest {
    private static final Duration TTL = Duration.ofSeconds(2);
    private static final String MEMBER_KEY = "services/web/i-1";

    @TempDir
    Path dir;

    @RegisterExtension
    final ServerProcesses.PerTest servers = new ServerProcesses.PerTest();

    private final List<String> heard = new CopyOnWriteArrayList<>();
    private final List<WatchEvent> seen = new CopyOnWriteArrayList<>();
    private final CompletableFuture<HoldfastException> watchEnded = new CompletableFuture<>();

    private LockClient open(String uri) {
        LockClient client = LockClient.open(
                uri,
                ClientOptions.builder().clientName("outliver").sessionTtl(TTL).build());
        client.addSessionListener(new SessionListener() {
            @Override
            public void lost(String oldId, String cause) {
                heard.add("lost " + oldId);
            }

            @Override
            public void reestablished(String newId) {
                heard.add("reestablished " + newId);
            }
        });
        return client;
    }

    private Watch watchTheGroup(LockClient client) {
        Watch watch = client.keys().watch("services/web/", new WatchListener() {
            @Override
            public void onEvent(WatchEvent event) {
                seen.add(event);
            }

            @Override
            public void onEnd(HoldfastException cause) {
                watchEnded.complete(cause);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
        return watch;
    }

    /** Kills the node, waits until the client has heard its session lost, and starts the node again. */
    private void restartAfterTheTtl(ServerProcesses server) throws Exception {
        server.kill(0);
        await("the client hears its session lost")
                .atMost(TTL.multipliedBy(5))
                .until(() -> heard.stream().anyMatch(h -> h.startsWith("lost ")));
        server.start(0);
        server.awaitLeader(Duration.ofSeconds(60));
    }

    private static Optional<KeyEntry> member(GroupMembership group) {
        try {
            return Optional.ofNullable(group.members().get("i-1"));
        } catch (HoldfastException e) {
            return Optional.empty(); // the node is still finding its feet
        }
    }

    @Test
    void aClientOutlivesARestartLongerThanItsTtl() throws Exception {
        ServerProcesses server = servers.start(dir, 1);
        try (LockClient client = open(server.clientUri())) {
            GroupMembership web = client.group("services/web");
            web.join("i-1", "10.0.0.1:8080".getBytes(StandardCharsets.UTF_8));
            Watch watch = watchTheGroup(client);
            Lease lease = client.lock("jobs/nightly").acquire(Duration.ofSeconds(5));
            List<LockLostException> lost = new CopyOnWriteArrayList<>();
            lease.onLost(lost::add);
            String first = client.sessionId();
            int before = seen.size();

            restartAfterTheTtl(server);
            long back = System.nanoTime();
            await("the member joined again under the new session")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> heard.size() == 2
                            && member(web)
                                    .map(m -> m.owner().equals(client.sessionId()))
                                    .orElse(false));
            assertThat(Duration.ofNanos(System.nanoTime() - back))
                    .as("from the node's return until the member is back (heard: %s)", heard)
                    .isLessThanOrEqualTo(Duration.ofSeconds(5));

            String second = client.sessionId();
            assertThat(second).isNotEqualTo(first);
            assertThat(heard).containsExactly("lost " + first, "reestablished " + second);
            assertThat(lost).as("the lease's own listener").hasSize(1);
            assertThat(lease.isValid()).isFalse();
            assertThatThrownBy(lease::checkValid).isInstanceOf(LockLostException.class);
            Lease again = client.lock("jobs/nightly").acquire(Duration.ofSeconds(30));
            assertThat(again.fencingToken()).isGreaterThan(lease.fencingToken());
            assertThat(lease.isValid())
                    .as("never taken again for the old lease")
                    .isFalse();

            await("the watch saw the member come back")
                    .atMost(Duration.ofSeconds(10))
                    .until(() -> since(before).stream().anyMatch(e -> writtenBy(e, second)));
            assertThat(theWatchMissedNoChange(before))
                    .as(
                            "a fresh STATE, or every change to the member after version %d (deleted when the old"
                                    + " session expired, then written again; or taken over at once by the new"
                                    + " session, version %d): %s",
                            versionBefore(before), versionBefore(before) + 1, since(before))
                    .isTrue();
            assertThat(watch.isOpen()).isTrue();
            assertThat(watchEnded).isNotDone();
        }
    }

    @Test
    void withRenewSessionsFalseTheClientEndsWithItsSession() throws Exception {
        ServerProcesses server = servers.start(dir, 1);
        try (LockClient client = open(server.clientUri() + "?renewSessions=false")) {
            watchTheGroup(client);
            String first = client.sessionId();

            restartAfterTheTtl(server);
            await("the watch ends with the session")
                    .atMost(Duration.ofSeconds(10))
                    .until(watchEnded::isDone);

            assertThat(watchEnded.get()).isInstanceOf(SessionExpiredException.class);
            assertThat(client.isOpen()).isFalse();
            assertThat(client.sessionId()).isEqualTo(first);
            assertThat(heard).containsExactly("lost " + first);
            assertThatThrownBy(() -> client.lock("jobs/nightly").acquire(Duration.ofSeconds(1)))
                    .isInstanceOf(SessionExpiredException.class);
        }
    }

    /** The events the watch delivered from the {@code from}-th on. */
    private List<WatchEvent> since(int from) {
        List<WatchEvent> all = List.copyOf(seen);
        return all.subList(Math.min(from, all.size()), all.size());
    }

    /** The member's version in the events delivered before the {@code from}-th (0: none seen). */
    private long versionBefore(int from) {
        long version = 0;
        for (WatchEvent e : List.copyOf(seen).subList(0, from)) {
            if (e.type() == WatchEvent.Type.STATE) {
                version = e.keys().stream()
                        .filter(k -> k.key().equals(MEMBER_KEY))
                        .mapToLong(KeyEntry::version)
                        .findFirst()
                        .orElse(0);
            } else if (e.name().equals(MEMBER_KEY)) {
                version = e.type() == WatchEvent.Type.REGISTER_DELETED ? 0 : e.version();
            }
        }
        return version;
    }

    /**
     * Whether the watch shows every change to the member after the {@code from}-th event: a fresh
     * {@code STATE}, or a chain in which each write follows the one before it (version + 1) or a
     * delete (version 1). A write whose version skips one means the watch missed a change.
     */
    private boolean theWatchMissedNoChange(int from) {
        long version = versionBefore(from);
        boolean written = false;
        for (WatchEvent e : since(from)) {
            if (e.type() == WatchEvent.Type.STATE) {
                return true;
            }
            if (!e.name().equals(MEMBER_KEY)) {
                continue;
            }
            if (e.type() == WatchEvent.Type.REGISTER_DELETED) {
                version = 0;
            } else if (e.type() == WatchEvent.Type.REGISTER_SET) {
                if (e.version() != version + 1) {
                    return false;
                }
                version = e.version();
                written = true;
            }
        }
        return written;
    }

    /** Whether the event shows the member written by session {@code id}. */
    private static boolean writtenBy(WatchEvent e, String id) {
        return switch (e.type()) {
            case STATE -> e.keys().stream().anyMatch(k -> k.key().equals(MEMBER_KEY) && id.equals(k.owner()));
            case REGISTER_SET -> e.name().equals(MEMBER_KEY);
            default -> false;
        };
    }
}
