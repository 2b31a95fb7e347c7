package io.holdfast.cli.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import org.slf4j.LoggerFactory;

/**
 * The server's logging, set up by {@code holdfast server} before it reads anything else: the
 * holdfast loggers and the audit trail ({@code holdfast.audit}) at INFO, in the format asked for
 * ({@code logback.xml}, text; {@code logback-json.xml}, one JSON object per line).
 *
 * <p><b>Guarantees.</b> After {@link #configure}, logback runs the chosen file with the server's
 * level, whatever touched a logger before: logback configures itself once, at the first logger
 * anything asks for, so a setting made by system property works only if it comes first. Here the
 * logger context is reset and configured again, so no option that loads a class with a logger
 * while it is read (the JWKS of {@code --token-jwks} did: issue 71) can leave the node on the
 * client commands' defaults: WARN only, no audit, text.
 *
 * <p><b>Does not</b> touch a logging backend other than logback (an application that embeds the
 * server configures its own), nor keep lines logged before it runs: those went out under the
 * defaults.
 *
 * <p><b>A failure it prevents.</b> A cluster started with {@code --token-jwks --log-format json}
 * logged nothing at INFO, no revoke in its audit trail, and its warnings as text, while the same
 * cluster with {@code --token-secret} logged as asked.
 */
public final class ServerLogging {
    /** The system property the logback files read for the holdfast loggers' level. */
    public static final String LEVEL = "holdfast.log.level";

    private ServerLogging() {}

    /**
     * Sets the server's level and format and (re)configures logback with them.
     *
     * @param json one JSON object per line instead of text
     * @throws IllegalStateException if the logback file cannot be read (a broken jar)
     */
    public static void configure(boolean json) {
        String file = json ? "logback-json.xml" : "logback.xml";
        System.setProperty(LEVEL, "INFO");
        System.setProperty("logback.configurationFile", file);
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another backend: its own configuration decides
        }
        URL url = ServerLogging.class.getClassLoader().getResource(file);
        if (url == null) {
            throw new IllegalStateException("the logging configuration " + file + " is not on the class path");
        }
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(url);
        } catch (JoranException e) {
            throw new IllegalStateException("cannot configure logging from " + file + ": " + e.getMessage(), e);
        }
    }
}
