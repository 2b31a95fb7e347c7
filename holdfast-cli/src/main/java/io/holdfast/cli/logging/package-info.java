/**
 * The CLI's additions to logback, which its {@code logback.xml} and {@code logback-json.xml} name:
 * one line per event at INFO and WARN ({@link io.holdfast.cli.logging.OneLineMessage}, {@link
 * io.holdfast.cli.logging.DebugTrace}), and a member that stays unreachable reported once a minute
 * instead of Ratis's warning every few seconds ({@link io.holdfast.cli.logging.UnreachableMembers}).
 * Public only because logback builds them by name. And the server's own set-up, which {@code
 * holdfast server} runs before it reads anything else ({@link io.holdfast.cli.logging.ServerLogging}).
 */
package io.holdfast.cli.logging;
