package io.holdfast.architecture;

import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.assignableTo;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.nameStartingWith;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.lang.conditions.ArchConditions;
import com.tngtech.archunit.library.Architectures;
import io.holdfast.LockClient;
import io.holdfast.internal.CrashSimulation;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direction of dependencies between Holdfast's packages, checked on every build over the
 * main classes of every module (this module's test class path holds them all). Maven's module
 * graph already refuses an import of a module one does not depend on; these rules refuse the wrong
 * imports that the graph allows: the public API stays free of implementations, the lock table
 * stays a pure state machine (no I/O, no clock, no threads of its own), store providers stay off
 * the lock service's internals, and the client's internals gain no new users outside the client.
 * The client carries none of the server's side, the shared model and the wire know neither the
 * table nor the serving side, planted bugs stay with the table, the server and the verifier, the
 * library's threads come from one factory, the recipes and the watch engine take time and threads
 * from their client, no two packages depend on each other, the server's
 * rooms use only the rooms below them, and code outside the server uses its front doors only. Maven's module graph enforces the client's closure too
 * (holdfast-client's enforcer rule); these rules also hold inside a module, where the graph cannot
 * see. Each rule is shown to fail on a class planted in this module's test sources (a {@code
 * PlantedWrongDirection} in {@code io.holdfast}, {@code io.holdfast.core}, {@code
 * io.holdfast.lease}, {@code io.holdfast.redis}, {@code io.holdfast.client}, {@code
 * io.holdfast.model}, {@code io.holdfast.protocol}, {@code io.holdfast.recipes}, {@code
 * io.holdfast.server.raft} and {@code io.holdfast.cli}).
 */
class ArchitectureTest {
    /**
     * Reads the system's clock, in any of the JDK's four ways: {@code System.nanoTime}, {@code
     * System.currentTimeMillis}, a {@code now()} of {@code java.time}, a {@code Clock.system*}. The
     * rules for the lock table, the recipes and watches, and the server forbid it alike.
     */
    static final ArchCondition<JavaClass> READ_THE_SYSTEM_CLOCK = ArchConditions.<JavaClass>callMethod(
                    System.class, "nanoTime")
            .or(ArchConditions.callMethod(System.class, "currentTimeMillis"))
            .or(ArchConditions.callMethodWhere(
                    target(name("now")).and(target(owner(assignableTo(java.time.temporal.Temporal.class))))))
            .or(ArchConditions.callMethodWhere(
                    target(nameStartingWith("system")).and(target(owner(assignableTo(java.time.Clock.class))))))
            .as("read the system's clock");

    /** The public API, the provider SPI, the recipes and the API's internals: only the JDK and each other. */
    static final ArchRule API_STANDS_ALONE = classes()
            .that()
            .resideInAnyPackage("io.holdfast", "io.holdfast.spi..", "io.holdfast.recipes..", "io.holdfast.internal..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "java..", "io.holdfast", "io.holdfast.spi..", "io.holdfast.recipes..", "io.holdfast.internal..")
            .because("applications compile against the API alone; implementations plug in through the SPI");

    /** LockTable and its parts: the deterministic state machine every replica applies. */
    static final ArchRule LOCK_TABLE_IS_PURE = classes()
            .that()
            .resideInAPackage("io.holdfast.core..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "java.lang..",
                    "java.util",
                    "java.util.function..",
                    "java.util.stream..",
                    "java.util.zip..", // the snapshot's checksum
                    "java.util.concurrent", // CompletableFuture: the LockService interface's results
                    "java.time..",
                    "java.io..",
                    "java.nio",
                    "java.nio.charset..",
                    "io.holdfast",
                    "io.holdfast.spi..",
                    "io.holdfast.model..",
                    "io.holdfast.core..")
            .because("every replica must apply the same entries to the same state: no network, files,"
                    + " threads or libraries in the lock table");

    static final ArchRule LOCK_TABLE_READS_NO_CLOCK = noClasses()
            .that()
            .resideInAPackage("io.holdfast.core..")
            .should(READ_THE_SYSTEM_CLOCK)
            .orShould()
            .dependOnClassesThat()
            .areAssignableTo(Thread.class)
            .orShould()
            .dependOnClassesThat()
            .areAssignableTo(java.util.concurrent.Executor.class)
            .because("time enters the lock table only in the log entries, and nothing in it runs on its own,"
                    + " so that replicas agree");

    /** Store providers share the lease engine and the store support, not the lock service's parts. */
    static final ArchRule STORE_PROVIDERS_STAY_OFF_THE_SERVICE = noClasses()
            .that()
            .resideInAnyPackage(
                    "io.holdfast.store..",
                    "io.holdfast.etcd..",
                    "io.holdfast.redis..",
                    "io.holdfast.jdbc..",
                    "io.holdfast.zookeeper..",
                    "io.holdfast.file..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.holdfast.core..",
                    "io.holdfast.model..",
                    "io.holdfast.node..",
                    "io.holdfast.endpoint..",
                    "io.holdfast.server..",
                    "io.holdfast.protocol..",
                    "io.holdfast.client..")
            .because("a store provider is the API over its store; the lock service's internals are not its own");

    /** The lease machinery is shared by both engines and knows neither. */
    static final ArchRule LEASES_KNOW_NO_ENGINE = noClasses()
            .that()
            .resideInAPackage("io.holdfast.lease..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                    "io.holdfast.client..", "io.holdfast.store..", "io.holdfast.server..", "io.holdfast.core..")
            .because("the client runtime and the store providers plug into it, not the reverse");

    /**
     * The client's internals: used today by the CLI, the verifier and the benchmarks (what they
     * need should move behind the API or a test SPI); no one else may start.
     */
    static final ArchRule CLIENT_INTERNALS_GAIN_NO_USERS = noClasses()
            .that()
            .resideOutsideOfPackages(
                    "io.holdfast.client..", "io.holdfast.cli..", "io.holdfast.verify..", "io.holdfast.bench..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.holdfast.client.internal..")
            .because("io.holdfast.client.internal is not an API");

    /**
     * A simulated crash ({@link CrashSimulation}) leaves a client's locks held until the service
     * expires them: only tests may cause one, so no main class calls the hook (its implementations
     * only define it).
     */
    static final ArchRule TEST_HOOKS_STAY_IN_TESTS = noClasses()
            .that()
            .doNotHaveFullyQualifiedName(CrashSimulation.class.getName())
            .should()
            .callMethodWhere(target(name("simulateCrash")).and(target(owner(assignableTo(CrashSimulation.class)))))
            .orShould()
            .callMethod(CrashSimulation.class, "crash", LockClient.class)
            .because("a simulated crash is a test's tool: in an application it would strand the locks it holds");

    /** The lock table, the in-JVM node, the serving side of the wire and the server, and JWT. */
    private static final String[] SERVING_SIDE = {
        "io.holdfast.core..", "io.holdfast.node..", "io.holdfast.endpoint..", "io.holdfast.server..", "com.nimbusds.."
    };

    /** An application that only locks gets no lock table, no serving side of the wire, no JWT. */
    static final ArchRule CLIENT_CARRIES_NO_SERVER = noClasses()
            .that()
            .resideInAPackage("io.holdfast.client..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(SERVING_SIDE)
            .because("the client speaks the model over the wire; the table and the serving side are the server's");

    /**
     * Holdfast traces through the OpenTelemetry API only: the SDK, its exporters and its sampling
     * are the application's choice (or the agent's, on a node), never carried by a Holdfast module.
     */
    static final ArchRule TRACING_THROUGH_THE_API_ONLY = noClasses()
            .that()
            .resideInAPackage("io.holdfast..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.opentelemetry.sdk..", "io.opentelemetry.exporter..")
            .because("the SDK is the application's: a library that carried one would fix its exporter and"
                    + " sampling, and set the global OpenTelemetry behind the application's back");

    /** What both sides speak: the API and the JDK only. */
    static final ArchRule MODEL_IS_SHARED = classes()
            .that()
            .resideInAPackage("io.holdfast.model..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("java..", "io.holdfast", "io.holdfast.spi..", "io.holdfast.model..")
            .because("clients and servers both depend on the model, so it may depend on neither side");

    /** The wire that clients carry: the model and gRPC, never the serving side or the table. */
    static final ArchRule WIRE_DOES_NOT_SERVE = noClasses()
            .that()
            .resideInAPackage("io.holdfast.protocol..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(SERVING_SIDE)
            .because("holdfast-protocol is in every client's closure");

    /**
     * Planted bugs (see {@code docs/verification.md}) are switched on only by the verifier, and live
     * only where they are planted: the table and the server.
     */
    static final ArchRule PLANTED_BUGS_STAY_IN_THE_LAB = noClasses()
            .that()
            .resideOutsideOfPackages("io.holdfast.core..", "io.holdfast.server..", "io.holdfast.verify..")
            .should()
            .dependOnClassesThat()
            .haveFullyQualifiedName("io.holdfast.core.PlantedBug")
            .because("a planted bug breaks safety on purpose: only the verifier may ask for one");

    /**
     * The library's threads come from one factory ({@code io.holdfast.internal.DaemonThreads}):
     * named, daemon, with the one uncaught-exception rule. Tools that run as programs of their
     * own (the CLI, the verifier, the benchmarks, the floors, the examples) and the test kit make
     * theirs.
     */
    static final ArchRule THREADS_FROM_ONE_FACTORY = noClasses()
            .that()
            .resideOutsideOfPackages(
                    "io.holdfast.internal..",
                    "io.holdfast.cli..",
                    "io.holdfast.verify..",
                    "io.holdfast.bench..",
                    "io.holdfast.floors..",
                    "io.holdfast.testkit..",
                    "io.holdfast.examples..")
            .should()
            .callConstructorWhere(target(owner(assignableTo(Thread.class))))
            .because("a thread made elsewhere has no name that says whose it is and may keep the JVM alive");

    /**
     * The recipes and the watch engine ({@code WatchRunner}, the feeds it reads) run on what their
     * client injects: its ticker for time, its scheduler and executor for threads. So a test's fake
     * ticker and manual scheduler move them, and no wait of theirs outlives its client's threads.
     */
    static final ArchRule RECIPES_AND_WATCHES_USE_INJECTED_TIME_AND_THREADS = noClasses()
            .that()
            .resideInAPackage("io.holdfast.recipes..")
            .or()
            .haveNameMatching("io\\.holdfast\\.internal\\.(WatchRunner|ChangeFeed|PollingFeed)(\\$.*)?")
            .should(READ_THE_SYSTEM_CLOCK)
            .orShould()
            .callMethodWhere(target(name("system")).and(target(owner(assignableTo(io.holdfast.Ticker.class)))))
            .orShould()
            .callConstructorWhere(target(owner(assignableTo(Thread.class))))
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName(io.holdfast.internal.DaemonThreads.class.getName())
            .orShould()
            .dependOnClassesThat()
            .haveFullyQualifiedName(java.util.concurrent.Executors.class.getName())
            .orShould()
            .callMethod(java.util.concurrent.CompletableFuture.class, "runAsync", Runnable.class)
            .orShould()
            .callMethod(java.util.concurrent.CompletableFuture.class, "supplyAsync", java.util.function.Supplier.class)
            .because("a recipe or a watch that read the system clock or ran on a thread of its own would escape the"
                    + " client's ticker, scheduler and executor: tests could not move it, close could not stop it");

    /**
     * The server's rooms, lowest first (ARCHITECTURE.md, "The server's rooms"): each may use the
     * rooms below it and none above, so the state machine never learns of leadership, membership
     * never of the node's service, the service never of HTTP, and only the node's assembly sees
     * them all.
     */
    static final List<String> SERVER_ROOMS = List.of(
            "io.holdfast.server.config",
            "io.holdfast.server.storage",
            "io.holdfast.server.raft",
            "io.holdfast.server.leadership",
            "io.holdfast.server.membership",
            "io.holdfast.server.node",
            "io.holdfast.server.backup",
            "io.holdfast.server.http",
            "io.holdfast.server");

    /** Each of the server's rooms uses only the rooms below it ({@link #SERVER_ROOMS}). */
    static final ArchRule SERVER_ROOMS_IN_ORDER = serverRoomsInOrder();

    private static ArchRule serverRoomsInOrder() {
        Architectures.LayeredArchitecture rooms = Architectures.layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true)
                .ensureAllClassesAreContainedInArchitectureIgnoring(
                        com.tngtech.archunit.base.DescribedPredicate.describe(
                                "outside the server", c -> !c.getPackageName().startsWith("io.holdfast.server")));
        for (String room : SERVER_ROOMS) {
            rooms = rooms.layer(room).definedBy(room);
        }
        rooms = rooms.whereLayer(SERVER_ROOMS.get(0)).mayNotAccessAnyLayer();
        for (int i = 1; i < SERVER_ROOMS.size(); i++) {
            rooms = rooms.whereLayer(SERVER_ROOMS.get(i))
                    .mayOnlyAccessLayers(SERVER_ROOMS.subList(0, i).toArray(String[]::new));
        }
        return rooms.because("a room that used one above it would make the two one idea, read and tested together");
    }

    /**
     * Outside the server, code uses its front doors only: the node ({@code HoldfastServer}), its
     * configuration, backups and restore, and the JSON views the CLI shares with the HTTP API. The
     * lab (the verifier, the benchmarks, the floors) may reach further, through {@code
     * HoldfastServer#parts()}.
     */
    static final ArchRule SERVER_ROOMS_STAY_INSIDE = noClasses()
            .that()
            .resideOutsideOfPackages(
                    "io.holdfast.server..", "io.holdfast.verify..", "io.holdfast.bench..", "io.holdfast.floors..")
            .should()
            .dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
                    "are inside the server's rooms",
                    c -> c.getPackageName().startsWith("io.holdfast.server.")
                            && !c.getPackageName().equals("io.holdfast.server.config")
                            && !c.getPackageName().equals("io.holdfast.server.backup")
                            && !c.getName().equals("io.holdfast.server.http.JsonViews")))
            .because("what the server does inside may change with every release; its front doors are the contract");

    /**
     * The server reads time through the clocks its node was given ({@code NodeParts#ticker()} for
     * every wait, deadline and lease, {@code NodeParts#wallClock()} for the stamps of backups), made
     * once, where the node is assembled ({@code HoldfastServer}). So a test moves them, and a
     * wall-clock jump reaches no lease or timeout.
     */
    static final ArchRule SERVER_TIMES_BY_ITS_CLOCKS = noClasses()
            .that()
            .resideInAPackage("io.holdfast.server..")
            .and()
            .doNotHaveFullyQualifiedName("io.holdfast.server.HoldfastServer")
            .should(READ_THE_SYSTEM_CLOCK)
            .because("a part that read the system's clock itself would escape the node's clocks: tests could not"
                    + " move it, and its waits would not be the node's");

    /** No two packages depend on each other, directly or around a loop. */
    static final ArchRule NO_PACKAGE_CYCLES = slices().matching("io.holdfast.(**)")
            .should()
            .beFreeOfCycles()
            .because("a cycle makes two packages one idea that cannot be split, tested or read apart");

    static final List<ArchRule> RULES = List.of(
            CLIENT_CARRIES_NO_SERVER,
            TRACING_THROUGH_THE_API_ONLY,
            MODEL_IS_SHARED,
            WIRE_DOES_NOT_SERVE,
            PLANTED_BUGS_STAY_IN_THE_LAB,
            NO_PACKAGE_CYCLES,
            THREADS_FROM_ONE_FACTORY,
            RECIPES_AND_WATCHES_USE_INJECTED_TIME_AND_THREADS,
            API_STANDS_ALONE,
            LOCK_TABLE_IS_PURE,
            LOCK_TABLE_READS_NO_CLOCK,
            STORE_PROVIDERS_STAY_OFF_THE_SERVICE,
            LEASES_KNOW_NO_ENGINE,
            CLIENT_INTERNALS_GAIN_NO_USERS,
            TEST_HOOKS_STAY_IN_TESTS,
            SERVER_ROOMS_IN_ORDER,
            SERVER_ROOMS_STAY_INSIDE,
            SERVER_TIMES_BY_ITS_CLOCKS);

    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.holdfast");
    }

    @Test
    void everyModuleKeepsTheDirection() {
        assertThat(main.stream().map(c -> c.getPackageName()).distinct())
                .as("the packages read (every module)")
                .contains(
                        "io.holdfast",
                        "io.holdfast.core",
                        "io.holdfast.client.internal",
                        "io.holdfast.server",
                        "io.holdfast.server.raft",
                        "io.holdfast.server.node",
                        "io.holdfast.server.http",
                        "io.holdfast.redis",
                        "io.holdfast.spring",
                        "io.holdfast.shedlock",
                        "io.holdfast.cli",
                        "io.holdfast.bench",
                        "io.holdfast.examples.coupons");
        for (ArchRule rule : RULES) {
            rule.check(main);
        }
    }

    @Test
    void aWrongDirectionIsCaught() {
        JavaClasses planted = new ClassFileImporter()
                .importClasses(
                        io.holdfast.PlantedWrongDirection.class,
                        io.holdfast.core.PlantedWrongDirection.class,
                        io.holdfast.lease.PlantedWrongDirection.class,
                        io.holdfast.redis.PlantedWrongDirection.class,
                        io.holdfast.client.PlantedWrongDirection.class,
                        io.holdfast.model.PlantedWrongDirection.class,
                        io.holdfast.protocol.PlantedWrongDirection.class,
                        io.holdfast.recipes.PlantedWrongDirection.class,
                        io.holdfast.server.raft.PlantedWrongDirection.class,
                        io.holdfast.cli.PlantedWrongDirection.class);
        Map<ArchRule, String> expected = Map.ofEntries(
                Map.entry(API_STANDS_ALONE, "io.holdfast.core.LockTable"),
                Map.entry(LEASES_KNOW_NO_ENGINE, "io.holdfast.store.StoreLockClient"),
                Map.entry(LOCK_TABLE_IS_PURE, "io.holdfast.client.internal.ClientRuntime"),
                Map.entry(LOCK_TABLE_READS_NO_CLOCK, "System.nanoTime()"),
                Map.entry(CLIENT_INTERNALS_GAIN_NO_USERS, "io.holdfast.client.internal.ClientRuntime"),
                Map.entry(STORE_PROVIDERS_STAY_OFF_THE_SERVICE, "io.holdfast.server.HoldfastServer"),
                Map.entry(TEST_HOOKS_STAY_IN_TESTS, "CrashSimulation.crash("),
                Map.entry(CLIENT_CARRIES_NO_SERVER, "io.holdfast.endpoint.Tokens"),
                Map.entry(TRACING_THROUGH_THE_API_ONLY, "io.opentelemetry.sdk.trace.SdkTracerProvider"),
                Map.entry(MODEL_IS_SHARED, "io.holdfast.core.LockTable"),
                Map.entry(WIRE_DOES_NOT_SERVE, "io.holdfast.endpoint.HoldfastGrpcService"),
                Map.entry(PLANTED_BUGS_STAY_IN_THE_LAB, "io.holdfast.client.PlantedWrongDirection"),
                Map.entry(NO_PACKAGE_CYCLES, "io.holdfast.model.PlantedWrongDirection"),
                Map.entry(THREADS_FROM_ONE_FACTORY, "java.lang.Thread.<init>"),
                Map.entry(SERVER_ROOMS_IN_ORDER, "io.holdfast.server.node.NodeParts"),
                Map.entry(SERVER_ROOMS_STAY_INSIDE, "io.holdfast.server.raft.LockStateMachine"),
                Map.entry(SERVER_TIMES_BY_ITS_CLOCKS, "java.lang.System.currentTimeMillis()"),
                Map.entry(RECIPES_AND_WATCHES_USE_INJECTED_TIME_AND_THREADS, "io.holdfast.Ticker.system()"));
        assertThat(expected.keySet())
                .as("every rule has a planted violation")
                .containsExactlyInAnyOrderElementsOf(RULES);
        expected.forEach((rule, named) -> {
            EvaluationResult result = rule.evaluate(planted);
            assertThat(result.hasViolation()).as(rule.getDescription()).isTrue();
            assertThat(result.getFailureReport().getDetails())
                    .as(rule.getDescription())
                    .anyMatch(line -> line.contains(named));
        });
    }
}
