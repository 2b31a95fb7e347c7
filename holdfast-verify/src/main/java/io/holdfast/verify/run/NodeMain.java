package io.holdfast.verify.run;

import io.holdfast.core.PlantedBug;
import io.holdfast.server.HoldfastServer;
import io.holdfast.server.config.RaftTransport;
import io.holdfast.server.config.ServerConfig;
import io.holdfast.server.config.StartupException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One Holdfast node as the verification harness runs it, in its own JVM: {@code --id n1 --peers
 * n1=n1.holdfast:R:C,… --data-dir DIR --http-port H --election-timeout MS [--raft-transport grpc|netty]
 * [--bugs a,b]}. It prints {@code READY <clientPort> <httpPort>} once serving, or {@code FAILED <reason>} and exits
 * 71. SIGTERM stops it cleanly; the harness also SIGKILLs and SIGSTOPs it. The end of its stdin
 * (the harness gone, even SIGKILLed) stops it too: it prints {@code ORPHANED <why>} and exits 0. Its Raft division gone,
 * it ends as {@code holdfast server} does: halted ({@link HoldfastServer#halted()}: a division Ratis
 * closed, another cluster's log), it prints {@code HALTED <reason>} and exits 71; removed from the
 * members ({@link HoldfastServer#removed()}), {@code REMOVED <line>} and exits 0.
 *
 * <p>On stdin it takes {@code snapshot}: take a Raft snapshot now (answers {@code SNAPSHOT
 * <index>}); {@code transfer-leader [ID]}: hand this node's leadership to ID, or to the most
 * up-to-date voter (answers {@code TRANSFERRED}, or {@code TRANSFER-FAILED <why>}); and {@code
 * stop}: the whole cluster stops, so stop without handing the leadership over ({@link
 * HoldfastServer#closeWithoutHandOver()}), print {@code STOPPED} and exit 0.
 *
 * <p>This is the only way to start a node with planted bugs ({@code --bugs}): {@code holdfast
 * server} has no such option, and no client request can switch one on.
 */
public final class NodeMain {
    private NodeMain() {}

    static {
        io.holdfast.server.config.ServerJvm.prepare(); // before anything uses CompletableFuture
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        String id = opts.get("--id");
        Map<String, ServerConfig.Peer> peers = ServerConfig.parsePeers(opts.get("--peers"));
        ServerConfig.Peer self = peers.get(id);
        ServerConfig config = new ServerConfig(
                        id,
                        peers,
                        Path.of(opts.get("--data-dir")),
                        "127.0.0.1",
                        self == null ? 0 : self.clientPort(),
                        Integer.parseInt(opts.getOrDefault("--http-port", "-1")),
                        true,
                        Duration.ofMillis(Long.parseLong(opts.getOrDefault("--election-timeout", "1000"))))
                .withRaftTransport(RaftTransport.parse(opts.getOrDefault("--raft-transport", "grpc")));
        HoldfastServer server;
        try {
            server = HoldfastServer.start(config, bugs(opts.getOrDefault("--bugs", "")));
        } catch (StartupException e) {
            System.out.println("FAILED " + e.getMessage());
            System.out.flush();
            System.exit(71);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "node-shutdown"));
        System.out.println("READY " + server.clientPort() + " " + server.httpPort());
        System.out.flush();
        // As holdfast server does: a node that halts (its Raft division closed, another cluster's
        // id applied) says why and exits 71, a removed one exits 0, instead of serving its ports as
        // a zombie.
        // The node is closed on this thread, below: the signal may come on one that closing waits
        // for (a halt found while applying an entry comes on Ratis's state machine thread).
        java.util.concurrent.atomic.AtomicReference<Ending> ending =
                new java.util.concurrent.atomic.AtomicReference<>();
        server.halted().thenAccept(reason -> {
            ending.compareAndSet(null, new Ending("HALTED " + reason, 71));
            stopped.countDown();
        });
        server.removed().thenAccept(line -> {
            ending.compareAndSet(null, new Ending("REMOVED " + line, 0));
            stopped.countDown();
        });
        // Commands from the harness on stdin: "snapshot" takes one now (answers SNAPSHOT <index>).
        Thread commands = new Thread(
                () -> {
                    try (java.io.BufferedReader in = new java.io.BufferedReader(
                            new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = in.readLine()) != null) {
                            if (line.trim().startsWith("members")) {
                                System.out.println(members(
                                        server,
                                        line.trim()
                                                .substring("members".length())
                                                .trim()));
                                System.out.flush();
                            }
                            if (line.trim().startsWith("transfer-leader")) {
                                String target = line.trim()
                                        .substring("transfer-leader".length())
                                        .trim();
                                String answer;
                                try {
                                    server.lockService()
                                            .changeMembers(
                                                    null,
                                                    new io.holdfast.model.MembershipChange.TransferLeader(
                                                            target.isEmpty() ? null : target))
                                            .get(30, java.util.concurrent.TimeUnit.SECONDS);
                                    answer = "TRANSFERRED";
                                } catch (Exception e) {
                                    answer = "TRANSFER-FAILED "
                                            + io.holdfast.internal.Causes.oneLine(
                                                    String.valueOf(io.holdfast.internal.Causes.deepest(e)));
                                }
                                System.out.println(answer);
                                System.out.flush();
                            }
                            if (line.trim().equals("stop")) {
                                ending.compareAndSet(null, new Ending("STOPPED with the whole cluster", 0, false));
                                stopped.countDown();
                                return;
                            }
                            if (line.trim().equals("snapshot")) {
                                String answer;
                                try {
                                    answer = "SNAPSHOT "
                                            + server.parts().machine().takeSnapshot();
                                } catch (java.io.IOException | RuntimeException e) {
                                    answer = "SNAPSHOT-FAILED " + e;
                                }
                                System.out.println(answer);
                                System.out.flush();
                            }
                        }
                    } catch (java.io.IOException ignored) {
                        // the harness is gone: as below
                    }
                    // The end of stdin: the harness is gone (killed, or its JVM ended without
                    // closing its children). A node left behind would serve on in the background,
                    // on ports a later run may draw, so it stops.
                    ending.compareAndSet(null, new Ending("ORPHANED the harness closed this node's stdin", 0));
                    stopped.countDown();
                },
                "node-commands");
        commands.setDaemon(true);
        commands.start();
        stopped.await();
        Ending end = ending.get();
        if (end != null) {
            System.out.println(end.line());
            System.out.flush();
            if (end.handOver()) {
                server.close();
            } else {
                server.closeWithoutHandOver();
            }
            System.exit(end.code()); // the shutdown hook's close returns at once: the node closes once
        }
    }

    /** How the node ends otherwise than on SIGTERM: the line it says, its exit code, whether a leader hands over. */
    private record Ending(String line, int code, boolean handOver) {
        Ending(String line, int code) {
            this(line, code, true);
        }
    }

    /**
     * A {@code members} command: alone, the members as this node knows them ({@code MEMBERS
     * n1,n2,…}); {@code add ID=HOST:RAFT:CLIENT [learner]}, {@code remove ID} or {@code promote ID}: a
     * change of the members through this node, which must lead ({@code CHANGED} or {@code
     * CHANGE-FAILED <why>}).
     */
    private static String members(HoldfastServer server, String args) {
        try {
            if (args.isEmpty()) {
                List<String> ids = new java.util.ArrayList<>();
                for (io.holdfast.model.ClusterInfo.Member m :
                        server.lockService().cluster().get(30, TimeUnit.SECONDS).members()) {
                    ids.add(m.id());
                }
                return "MEMBERS " + String.join(",", ids);
            }
            String[] w = args.split("\\s+");
            io.holdfast.model.MembershipChange change;
            switch (w[0]) {
                case "add" -> {
                    String id = w[1].substring(0, w[1].indexOf('='));
                    String[] hrc = w[1].substring(w[1].indexOf('=') + 1).split(":");
                    change = new io.holdfast.model.MembershipChange.Add(
                            id, hrc[0] + ":" + hrc[1], hrc[0] + ":" + hrc[2], w.length > 2 && w[2].equals("learner"));
                }
                case "remove" -> change = new io.holdfast.model.MembershipChange.Remove(w[1]);
                case "promote" -> change = new io.holdfast.model.MembershipChange.Promote(w[1]);
                default -> {
                    return "CHANGE-FAILED unknown change '" + args + "'";
                }
            }
            server.lockService().changeMembers(null, change).get(60, TimeUnit.SECONDS);
            return "CHANGED " + args;
        } catch (Exception e) {
            return (args.isEmpty() ? "MEMBERS-FAILED " : "CHANGE-FAILED ")
                    + io.holdfast.internal.Causes.oneLine(String.valueOf(io.holdfast.internal.Causes.deepest(e)));
        }
    }

    private static Set<PlantedBug> bugs(String names) {
        Set<PlantedBug> bugs = EnumSet.noneOf(PlantedBug.class);
        for (String n : names.split(",")) {
            if (!n.isBlank()) {
                bugs.add(PlantedBug.byName(n.trim()));
            }
        }
        return bugs;
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected an option, not '" + args[i] + "'");
            }
            opts.put(args[i], args[i + 1]);
        }
        for (String required : new String[] {"--id", "--peers", "--data-dir"}) {
            if (!opts.containsKey(required)) {
                throw new IllegalArgumentException("missing " + required);
            }
        }
        return opts;
    }
}
