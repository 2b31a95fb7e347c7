package io.holdfast.model;

import io.holdfast.WatchEvent;
import java.util.List;

/**
 * What a read found: the target's changes (each at the position after it) and the position to
 * read from next; or a gap, when this replica cannot prove it has every change since.
 */
public record ChangePage(List<WatchEvent> events, ChangePosition next, boolean gap) {}
