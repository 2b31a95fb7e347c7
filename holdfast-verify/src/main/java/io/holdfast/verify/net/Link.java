package io.holdfast.verify.net;

import java.time.Duration;
import java.util.List;

/**
 * One directed link dialer → node of a {@link Network}: a {@link LinkProxy} for the node's Raft port
 * and one for its client port, which every fault of the link acts on together. Named {@code
 * from->to} ({@code "n1->n2"}, {@code "c3->n1"}).
 */
public final class Link {
    private final String from;
    private final String to;
    private final LinkProxy raft;
    private final LinkProxy client;

    Link(String from, String to, LinkProxy raft, LinkProxy client) {
        this.from = from;
        this.to = to;
        this.raft = raft;
        this.client = client;
    }

    /** {@code from->to}. */
    public String name() {
        return from + "->" + to;
    }

    /** The dialer. */
    public String from() {
        return from;
    }

    /** The node dialed. */
    public String to() {
        return to;
    }

    public LinkProxy raft() {
        return raft;
    }

    public LinkProxy client() {
        return client;
    }

    public List<LinkProxy> proxies() {
        return List.of(raft, client);
    }

    public void pass() {
        raft.pass();
        client.pass();
    }

    public void blackhole() {
        raft.blackhole();
        client.blackhole();
    }

    public void dropForward() {
        raft.dropForward();
        client.dropForward();
    }

    public void dropBackward() {
        raft.dropBackward();
        client.dropBackward();
    }

    public void delay(Duration d) {
        raft.delay(d);
        client.delay(d);
    }

    public void cut() {
        raft.cut();
        client.cut();
    }

    /** Whether anything of the link drops bytes. */
    public boolean isDropping() {
        return raft.dropsForward() || raft.dropsBackward() || client.dropsForward() || client.dropsBackward();
    }

    @Override
    public String toString() {
        return name() + " " + raft + " " + client;
    }
}
