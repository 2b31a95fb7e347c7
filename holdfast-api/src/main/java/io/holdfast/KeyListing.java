package io.holdfast;

import java.util.List;
import java.util.Objects;

/**
 * One page of {@link Keys#list}: keys in byte order of their UTF-8, all read at one point of the
 * service's order of changes.
 *
 * @param entries the keys of this page, at most the limit asked for (fewer where the provider ends
 *     a page by bytes, {@link Keys#MAX_PAGE_BYTES}, with {@code more} true)
 * @param more whether keys after the last of this page match too: ask again with it as {@code after}
 * @param position where the page was read in the service's order of changes (opaque text, as {@link
 *     WatchEvent#position()}); "" where the provider has no such order
 */
public record KeyListing(List<KeyEntry> entries, boolean more, String position) {
    public KeyListing {
        entries = List.copyOf(entries);
        position = Objects.requireNonNullElse(position, "");
    }

    /** The key to pass as {@code after} for the next page; null when there is no next page. */
    public String next() {
        return more && !entries.isEmpty() ? entries.get(entries.size() - 1).key() : null;
    }
}
