/**
 * The HTTP port ({@link io.holdfast.server.http.HttpEndpoint}): the dashboard, the operators' JSON
 * API, Prometheus metrics, the probes, and the JSON protocol for clients in other languages
 * (docs/protocol.md), every route in one table ({@code HttpRoutes}). It serves with the node's
 * parts and submits to the same lock service as the client port. {@link
 * io.holdfast.server.http.JsonViews} is shared with the CLI's {@code --json}.
 */
package io.holdfast.server.http;
