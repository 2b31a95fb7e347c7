package io.holdfast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.internal.Redaction;
import org.junit.jupiter.api.Test;

class RedactionTest {
    @Test
    void passwordsAndTokensAreReplacedWhereverAProviderTakesThem() {
        assertThat(Redaction.uri("redis://app:s3cret@10.0.0.5:6379/0")).isEqualTo("redis://app:***@10.0.0.5:6379/0");
        assertThat(Redaction.uri("redis://s3cret@10.0.0.5:6379")).isEqualTo("redis://***@10.0.0.5:6379");
        assertThat(Redaction.uri("rediss://:s3cret@h:6380")).isEqualTo("rediss://:***@h:6380");
        assertThat(Redaction.uri("jdbc:postgresql://db:5432/app?user=app&password=s3cret&sslmode=require"))
                .isEqualTo("jdbc:postgresql://db:5432/app?user=app&password=***&sslmode=require");
        assertThat(Redaction.uri("jdbc:sqlserver://db;user=app;Password=s3cret;encrypt=true"))
                .isEqualTo("jdbc:sqlserver://db;user=app;Password=***;encrypt=true");
        assertThat(Redaction.uri("jdbc:mariadb://db/app?trustStorePassword=s3cret&sslPwd=s3cret"))
                .isEqualTo("jdbc:mariadb://db/app?trustStorePassword=***&sslPwd=***");
        assertThat(Redaction.uri("holdfast://a:4653,b:4653?tls=true&token=eyJs3cret&ca=/etc/hf/ca.pem"))
                .isEqualTo("holdfast://a:4653,b:4653?tls=true&token=***&ca=/etc/hf/ca.pem");
        assertThat(Redaction.uri("etcd://h:2379?user=root&password=s3cret&namespace=x"))
                .isEqualTo("etcd://h:2379?user=root&password=***&namespace=x");
        assertThat(Redaction.uri("zookeeper://h:2181/app?secret=s3cret"))
                .isEqualTo("zookeeper://h:2181/app?secret=***");
    }

    @Test
    void whatSaysWhereStays() {
        String plain = "holdfast://[::1]:4653,127.0.0.1:4663?transport=grpc&key=/etc/hf/client.key";
        assertThat(Redaction.uri(plain)).isEqualTo(plain);
        assertThat(Redaction.uri("file:///var/lib/locks")).isEqualTo("file:///var/lib/locks");
        assertThat(Redaction.uri(null)).isNull();
    }

    @Test
    void noProviderForTheUriNamesItWithoutItsSecrets() {
        assertThatThrownBy(() -> LockClient.open("nosuch://app:s3cret@h:1?token=t0ken"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("nosuch://app:***@h:1?token=***")
                .hasMessageNotContaining("s3cret")
                .hasMessageNotContaining("t0ken");
    }
}
