package io.holdfast.bench.population;

import io.holdfast.bench.population.PopulationBench.Settings;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the population runs on: Holdfast's members, or ZooKeeper's ensemble for the same steps and measures side by
 * side. Each target gives the {@link Cluster}, the extra client's lock ({@link Probe.Lock}) and the crowd of one
 * JVM; the worker processes ({@link Fleet}, {@link CrowdWorker}) pick their crowd from the cluster's URI.
 *
 * <p>Guaranteed: the same {@link PopulationBench} drives both, with the same rows and stops. Not guaranteed: that
 * ZooKeeper carries more than sessions (held locks, waiters and watchers are Holdfast's steps: its crowd refuses
 * them), nor a backup on ZooKeeper (its rows say "-"). Failure story: the ZooKeeper jars are missing; the cluster
 * does not start and the command exits 71 naming the jar and the package.
 */
public enum Target {
    /** Holdfast's members ({@link Nodes}), TLS and access rules when {@link Settings#secured()}. */
    HOLDFAST,
    /** A ZooKeeper ensemble ({@link Ensemble}): sessions as ZooKeeper handles, W1 through Curator. */
    ZOOKEEPER;

    /** ZooKeeper's servers' default class path: the Debian package's jar and the slf4j binding its log goes through. */
    public static final String DEBIAN_ZOOKEEPER = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

    /** The cluster for the settings, not started; {@code security} gets the line that says how it is secured. */
    Cluster cluster(Settings settings, List<String> security) throws IOException {
        if (this == ZOOKEEPER) {
            security.add("security: none (ZooKeeper's plaintext client port)");
            return new Ensemble(
                    settings.dir(),
                    settings.nodes(),
                    settings.basePort(),
                    settings.serverJvmOptions(),
                    settings.zookeeperClasspath());
        }
        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= settings.nodes(); i++) {
            ids.add("n" + i);
        }
        Secured secured = settings.secured() ? Secured.create(settings.dir().resolve("certs"), ids) : null;
        security.add(
                secured == null
                        ? "security: none (plaintext, no access rules: the default quotas hold)"
                        : "security: TLS and access rules for the identity " + Secured.IDENTITY
                                + ", every quota at its maximum (rules in "
                                + settings.dir().resolve("certs") + ")");
        return new Nodes(
                settings.dir(),
                settings.nodes(),
                settings.basePort(),
                settings.serverJvmOptions(),
                settings.serverOptions(),
                secured);
    }

    /** The extra client's lock on the cluster. */
    Probe.Lock probeLock(Cluster cluster, Settings settings) {
        return this == ZOOKEEPER
                ? new CuratorProbeLock(((Ensemble) cluster).connectString(), (int)
                        settings.sessionTtl().toMillis())
                : Probe.holdfast(cluster.backendUri());
    }

    /** The crowd of one JVM on the cluster. */
    Generator crowd(Cluster cluster, Settings settings) {
        return this == ZOOKEEPER
                ? new ZkCrowd(cluster.backendUri(), settings.sessionTtl(), "population/", settings.openRate())
                : new Crowd(
                        cluster.backendUri(),
                        settings.sessionTtl(),
                        settings.sessionsPerConnection(),
                        io.holdfast.ClientOptions.defaults().requestTimeout(),
                        "population/",
                        settings.openRate());
    }
}
