package io.holdfast.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import org.junit.jupiter.api.Test;

/** Holdfast options are read from the URI and never reach the driver; bad ones are named. */
class JdbcUriTest {
    @Test
    void optionsAreTakenOutOfAPostgresUrl() {
        JdbcUri u = JdbcUri.parse("jdbc:postgresql://h:5432/db?user=u&holdfast.tablePrefix=app_&ssl=false"
                + "&holdfast.poolSize=8&holdfast.createSchema=false");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/db?user=u&ssl=false");
        assertThat(u.dialect()).isEqualTo(Dialect.POSTGRESQL);
        assertThat(u.mode()).isEqualTo(JdbcUri.Mode.TABLE);
        assertThat(u.tablePrefix()).isEqualTo("app_");
        assertThat(u.poolSize()).isEqualTo(8);
        assertThat(u.createSchema()).isFalse();
    }

    @Test
    void aUrlWithOnlyHoldfastOptionsLosesItsQuestionMark() {
        JdbcUri u = JdbcUri.parse("jdbc:postgresql://h/db?holdfast.mode=advisory");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://h/db");
        assertThat(u.mode()).isEqualTo(JdbcUri.Mode.ADVISORY);
    }

    @Test
    void h2TakesOptionsAsSemicolonSegments() {
        JdbcUri u = JdbcUri.parse("jdbc:h2:tcp://h:9092/./locks;holdfast.tablePrefix=x_;MODE=Regular");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:h2:tcp://h:9092/./locks;MODE=Regular");
        assertThat(u.tablePrefix()).isEqualTo("x_");
    }

    @Test
    void mysqlUrlsGoToTheMariaDbDriver() {
        JdbcUri u = JdbcUri.parse("jdbc:mysql://h:3306/db?user=root");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:mariadb://h:3306/db?user=root");
        assertThat(u.dialect()).isEqualTo(Dialect.MARIADB);
    }

    @Test
    void badOptionsAreRefusedByName() {
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:postgresql://h/db?holdfast.tablePrefix=x;drop"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("holdfast.tablePrefix");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:postgresql://h/db?holdfast.colour=red"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("holdfast.colour");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:postgresql://h/db?holdfast.poolSize=0"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("holdfast.poolSize");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:mariadb://h/db?holdfast.mode=advisory"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("PostgreSQL");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:postgresql://h/db?holdfast.mode"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no value");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:postgresql:"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("names no database");
        assertThatThrownBy(() -> JdbcUri.parse("jdbc:oracle:thin:@h:1521/x"))
                .isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void everyDialectsSqlFilesHaveEveryStatement() {
        for (Dialect d : Dialect.values()) {
            assertThat(d.schema("holdfast_"))
                    .as(d + " schema")
                    .hasSize(d == Dialect.H2 ? 12 : 10)
                    .allSatisfy(s -> assertThat(s).doesNotContain("${"));
            assertThat(d.statements("holdfast_"))
                    .as(d + " statements")
                    .containsKeys(
                            "lockName",
                            "ensureName",
                            "deleteExpired",
                            "holders",
                            "insertHolder",
                            "renew",
                            "releaseLive",
                            "releaseAny",
                            "isCurrentHolder",
                            "revoke",
                            "describeHolders",
                            "describeWaiters",
                            "listNames",
                            "readKey",
                            "listKeys",
                            "ensureKey",
                            "lockKey",
                            "writeKey",
                            "deleteKey",
                            "ownedKeys",
                            "clock",
                            "sessionExpires",
                            "lockSession",
                            "lockSessionHolders",
                            "lockFence",
                            "lockHolder",
                            "insertSession",
                            "renewSession",
                            "deleteSession",
                            "keysOf",
                            "deleteKeysOf",
                            "endedSessions",
                            "lapsedKeys",
                            "lockLapsedKey",
                            "keysSchema",
                            "holdsFence",
                            "insertWaiter",
                            "deleteWaiter",
                            "purgeWaiters")
                    .allSatisfy((k, v) -> assertThat(v).doesNotContain("${"));
        }
    }
}
