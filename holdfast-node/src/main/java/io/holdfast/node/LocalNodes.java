package io.holdfast.node;

import io.holdfast.model.InProcessNodes;
import io.holdfast.model.LockService;

/** The {@link InProcessNodes} of this module: {@link LocalNode}s, reached by direct calls. */
public final class LocalNodes implements InProcessNodes {
    @Override
    public LockService open(String name) {
        return new LocalTransport(LocalNode.named(name));
    }
}
