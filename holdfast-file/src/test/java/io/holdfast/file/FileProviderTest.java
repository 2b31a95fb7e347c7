package io.holdfast.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.DistributedLock;
import io.holdfast.Lease;
import io.holdfast.LockClient;
import io.holdfast.UnavailableException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the contract suite does not cover: shared locks and fence checks across processes, the files themselves. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FileProviderTest {
    private final List<LockClient> clients = new ArrayList<>();
    private final List<Process> children = new ArrayList<>();
    private Path dir;
    private String uri;

    @BeforeEach
    void createDirectory() throws IOException {
        Path base = Files.createDirectories(Path.of("target", "provider-tests")).toAbsolutePath();
        dir = Files.createTempDirectory(base, "store-").resolve("store");
        uri = dir.toUri().toString();
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process p : children) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        clients.forEach(LockClient::close);
    }

    private LockClient open() {
        LockClient client = LockClient.open(uri);
        clients.add(client);
        return client;
    }

    private Process child(String... args) throws IOException {
        Process p = ChildJvms.start(args);
        children.add(p);
        return p;
    }

    /** Starts a child that holds the lock and returns its token. */
    private long childHolds(String name, String mode, Process[] started) throws Exception {
        Process p = child("hold", uri, name, mode);
        started[0] = p;
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
                    try {
                        String l;
                        while ((l = out.readLine()) != null) {
                            if (l.startsWith("HELD ")) {
                                return l;
                            }
                        }
                        return "(ended)";
                    } catch (IOException e) {
                        return "(" + e + ")";
                    }
                })
                .get(60, TimeUnit.SECONDS);
        assertThat(line).startsWith("HELD ");
        return Long.parseLong(line.substring(5).trim());
    }

    /** What a fresh process sees when it tries the lock once. */
    private String childTries(String name, String mode) throws Exception {
        Process p = child("try", uri, name, mode);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out.strip();
    }

    @Test
    void readLocksAreSharedAcrossProcessesAndExcludeWriters() throws Exception {
        Process[] holder = new Process[1];
        long childToken = childHolds("catalog", "read", holder);
        LockClient client = open();
        Lease read = client.readWriteLock("catalog").readLock().tryAcquire().orElseThrow();
        assertThat(read.fencingToken()).isGreaterThan(childToken);
        assertThat(open().readWriteLock("catalog").writeLock().tryAcquire())
                .as("a write lock while a reader in another process and one here hold")
                .isEmpty();

        holder[0].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertThat(open().readWriteLock("catalog").writeLock().tryAcquire())
                .as("a write lock while a reader here still holds")
                .isEmpty();
        read.release();
        assertThat(open().readWriteLock("catalog").writeLock().tryAcquire())
                .as("the write lock once every reader is gone")
                .isPresent();
    }

    @Test
    void theFenceCheckSeesAnotherProcesssHolderAndItsDeath() throws Exception {
        Process[] holder = new Process[1];
        long token = childHolds("orders/42", "write", holder);
        LockClient client = open();
        assertThat(client.admin().isCurrentHolder("orders/42", token)).isTrue();
        assertThat(client.admin().isCurrentHolder("orders/42", token - 1)).isFalse();
        assertThat(client.lock("orders/42").tryAcquire()).isEmpty();

        holder[0].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertThat(client.admin().isCurrentHolder("orders/42", token))
                .as("the dead holder's token (its record is still in the file)")
                .isFalse();
        Lease next = client.lock("orders/42").tryAcquire().orElseThrow();
        assertThat(next.fencingToken()).isGreaterThan(token);
        assertThat(client.admin().isCurrentHolder("orders/42", next.fencingToken()))
                .isTrue();
    }

    @Test
    void interruptedAndCancelledWaitsNeverDropAnotherClientsOsLock() throws Exception {
        Lease read = open().readWriteLock("shared").readLock().tryAcquire().orElseThrow();
        DistributedLock writer = open().readWriteLock("shared").writeLock();
        for (int i = 0; i < 100; i++) {
            CompletableFuture<Lease> wait = writer.acquireAsync(Duration.ofSeconds(30));
            Thread.sleep(i % 5);
            wait.cancel(true);
        }
        assertThat(read.isValid()).isTrue();
        assertThat(childTries("shared", "write"))
                .as("another process trying the write lock while a reader here holds")
                .isEqualTo("BUSY");
        read.release();
        assertThat(childTries("shared", "write")).startsWith("FREE ");
    }

    @Test
    void tokensKeepGrowingWhenTheDirectoryIsOpenedAgain() {
        LockClient first = open();
        long before = first.lock("a").tryAcquire().orElseThrow().fencingToken();
        first.close();
        clients.remove(first);
        long after = open().lock("b").tryAcquire().orElseThrow().fencingToken();
        assertThat(after).isGreaterThan(before);
        assertThat(dir.resolve("counter")).hasContent(String.format("%020d", after));
    }

    @Test
    void aDirectoryCreatedAgainAfterItWasLostStillIssuesLargerTokens() throws IOException {
        LockClient first = open();
        long before = first.lock("a").tryAcquire().orElseThrow().fencingToken();
        first.close();
        clients.remove(first);
        Files.move(dir, dir.resolveSibling("lost"));
        long after = open().lock("a").tryAcquire().orElseThrow().fencingToken();
        assertThat(after).as("the first token of the new directory").isGreaterThan(before);
    }

    @Test
    void aLockFileNamesItsLastExclusiveHolder() throws IOException {
        LockClient client = open();
        Lease lease = client.lock("orders/7").tryAcquire().orElseThrow();
        Path file = dir.resolve("locks").resolve(LockFileNames.of("orders/7"));
        assertThat(Files.readString(file))
                .contains("name: orders/7", "token: " + lease.fencingToken(), "session: " + client.sessionId());
        lease.release();
        assertThat(Files.readString(file)).contains("name: orders/7", "free").doesNotContain("token:");
    }

    @Test
    void aMissingCounterBesideLockFilesIsRefusedRatherThanRestartingTokens() throws IOException {
        open().lock("a").tryAcquire().orElseThrow().release();
        clients.forEach(LockClient::close);
        clients.clear();
        Files.delete(dir.resolve("counter"));
        assertThatThrownBy(this::open).isInstanceOf(UnavailableException.class).hasMessageContaining("no counter file");
    }

    @Test
    void aDamagedCounterStopsGrantsInsteadOfGuessing() throws IOException {
        LockClient client = open();
        Files.writeString(dir.resolve("counter"), "garbage");
        assertThatThrownBy(() -> client.lock("a").tryAcquire())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("damaged");
    }

    @Test
    void processesIncrementingOneRegisterLoseNoIncrement() throws Exception {
        Path go = dir.resolveSibling("go");
        List<Process> workers = new ArrayList<>();
        List<BufferedReader> outs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Process p = child("increment", uri, "reg/counter", "100", go.toString());
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).as("child %d", i).isEqualTo("READY");
            workers.add(p);
            outs.add(out);
        }
        Files.createFile(go); // all three start together
        for (int i = 0; i < workers.size(); i++) {
            assertThat(workers.get(i).waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(outs.get(i).readLine()).as("child %d", i).isEqualTo("DONE");
        }
        io.holdfast.Versioned last = open().register("reg/counter").get().orElseThrow();
        assertThat(java.nio.ByteBuffer.wrap(last.value()).getLong())
                .as("3 processes x 100 increments")
                .isEqualTo(300);
        assertThat(last.version()).isEqualTo(300);
    }

    @Test
    void aDamagedRegisterFileIsReportedNotReadAndACrashedWriteLeavesTheOldValue() throws IOException {
        LockClient client = open();
        client.register("reg/a").compareAndSet(0, new byte[] {1, 2, 3});
        Path registers = dir.resolve(FileRegisters.REGISTERS);
        Path file;
        try (var files = Files.list(registers)) {
            file = files.filter(f -> f.toString().endsWith(".reg")).findFirst().orElseThrow();
        }
        // A write that died after writing its temporary file, before the rename: the old value stands.
        Files.write(file.resolveSibling(file.getFileName() + ".tmp"), new byte[] {9, 9});
        assertThat(client.register("reg/a").get().orElseThrow().value()).containsExactly(1, 2, 3);
        assertThat(client.register("reg/a").compareAndSet(1, new byte[] {4}).version())
                .isEqualTo(2);

        byte[] whole = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(whole, whole.length - 2));
        assertThatThrownBy(() -> client.register("reg/a").get())
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("damaged");
        assertThatThrownBy(() -> client.register("reg/a").compareAndSet(2, new byte[] {5}))
                .as("a write over a damaged register")
                .isInstanceOf(UnavailableException.class);
    }

    @Test
    void createFalseRefusesAMissingDirectory() {
        assertThatThrownBy(() -> LockClient.open(uri + "?create=false"))
                .isInstanceOf(UnavailableException.class)
                .hasMessageContaining("does not exist");
        assertThat(dir).doesNotExist();
    }

    @Test
    void aPathThatIsAFileIsRefused() throws IOException {
        Files.createDirectories(dir.getParent());
        Files.writeString(dir, "not a directory");
        assertThatThrownBy(this::open)
                .isInstanceOf(io.holdfast.InvalidArgumentException.class)
                .hasMessageContaining("not a directory");
    }

    @Test
    void aLockHeldWhileTheDirectoryIsAwayIsStillHeldAndReleasable() throws IOException {
        LockClient client = open();
        Lease lease = client.lock("a").tryAcquire().orElseThrow();
        Path away = dir.resolveSibling("away");
        Files.move(dir, away);
        try {
            assertThatThrownBy(() -> LockClient.open(uri + "?create=false"))
                    .as("a new client (create=false) while the directory is away")
                    .isInstanceOf(UnavailableException.class);
            assertThatThrownBy(() -> client.lock("b").tryAcquire()).isInstanceOf(UnavailableException.class);
            assertThat(client.lock("a").tryAcquire())
                    .as("the held lock, still held")
                    .isEqualTo(Optional.empty());
            lease.release();
        } finally {
            Files.move(away, dir);
        }
        assertThat(client.lock("a").tryAcquire()).isPresent();
    }
}
