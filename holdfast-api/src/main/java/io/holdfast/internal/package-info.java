/**
 * What Holdfast's own modules share and nobody else may use: the thread factory, redaction of
 * URIs, causes for one-line errors, URI durations, the reachability probe, the watch engine, the
 * change feed it reads and its polling feed, and the crash hook of tests. {@code module-info} exports it only to those
 * modules; it may change in any release.
 */
package io.holdfast.internal;
