package io.holdfast.zookeeper;

import java.nio.charset.StandardCharsets;

/**
 * What a queue node stores for operators: the Holdfast session and client name of its owner, and
 * how long it was willing to wait (0 for a try). Nothing in it decides who holds the lock.
 */
record NodeData(String sessionId, String clientName, long waitMillis) {
    private static final String VERSION = "holdfast-1";

    byte[] encode() {
        return (VERSION + "\n" + sessionId + "\n" + waitMillis + "\n" + clientName).getBytes(StandardCharsets.UTF_8);
    }

    /** The data of a node, or placeholders for data that is not ours. */
    static NodeData decode(byte[] data) {
        if (data != null) {
            String[] parts = new String(data, StandardCharsets.UTF_8).split("\n", 4);
            if (parts.length == 4 && parts[0].equals(VERSION)) {
                try {
                    return new NodeData(parts[1], parts[3], Long.parseLong(parts[2]));
                } catch (NumberFormatException malformed) {
                    // fall through
                }
            }
        }
        return new NodeData("?", "?", 0);
    }
}
