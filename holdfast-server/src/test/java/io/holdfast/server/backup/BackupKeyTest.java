package io.holdfast.server.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.holdfast.InvalidArgumentException;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encrypted form of a backup: it round-trips with its key only; every changed, cut or added
 * byte, the header's included, is refused in one line; key files are 32 bytes or their base64.
 */
class BackupKeyTest {
    @TempDir
    Path dir;

    private static BackupKey key(int seed) {
        byte[] k = new byte[32];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (seed * 31 + i);
        }
        return BackupKey.of(k);
    }

    private Path encrypted(BackupKey key, byte[] plain) throws Exception {
        Path file = dir.resolve("enc-" + System.nanoTime());
        try (OutputStream out = Files.newOutputStream(file)) {
            key.encrypt(out, o -> {
                o.write(plain);
                return plain.length;
            });
        }
        return file;
    }

    @Test
    void roundTripsWithItsKeyAndAFreshNonceEachTime() throws Exception {
        byte[] plain = "HFBK and then a lock table".repeat(5000).getBytes(StandardCharsets.US_ASCII);
        Path a = encrypted(key(1), plain);
        Path b = encrypted(key(1), plain);
        assertThat(BackupKey.isEncrypted(a)).isTrue();
        assertThat(Files.readAllBytes(a)).as("a fresh nonce: no two alike").isNotEqualTo(Files.readAllBytes(b));
        assertThat(new String(Files.readAllBytes(a), StandardCharsets.ISO_8859_1))
                .doesNotContain("lock table");
        Path out = dir.resolve("plain");
        key(1).decrypt(a, out, "a");
        assertThat(Files.readAllBytes(out)).isEqualTo(plain);
    }

    @Test
    void aWrongKeyOrAnyChangedCutOrAddedByteIsRefusedInOneLine() throws Exception {
        byte[] plain = "a backup".repeat(100).getBytes(StandardCharsets.US_ASCII);
        Path good = encrypted(key(1), plain);
        byte[] bytes = Files.readAllBytes(good);
        assertRefused(good, key(2));
        for (int at : new int[] {9, 19, 20, bytes.length / 2, bytes.length - 1}) { // nonce, body, tag
            byte[] changed = bytes.clone();
            changed[at] ^= 1;
            assertRefused(Files.write(dir.resolve("changed-" + at), changed), key(1));
        }
        assertRefused(Files.write(dir.resolve("cut"), java.util.Arrays.copyOf(bytes, bytes.length - 1)), key(1));
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        assertRefused(Files.write(dir.resolve("longer"), longer), key(1));
        byte[] version = bytes.clone();
        version[7] = 9;
        assertThatThrownBy(() -> key(1).decrypt(Files.write(dir.resolve("v9"), version), dir.resolve("p"), "v9"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("v9 is encrypted in version 9; this build reads version 1");
    }

    private void assertRefused(Path file, BackupKey key) {
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> key.decrypt(file, out, "the backup"))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("the backup cannot be decrypted: wrong key, or the backup was changed (its AES-GCM tag"
                        + " does not match)");
        assertThat(out).doesNotExist();
    }

    @Test
    void aKeyFileIs32BytesOrTheirBase64AndNothingElse() throws Exception {
        byte[] raw = new byte[32];
        raw[0] = 7;
        Path rawFile = Files.write(dir.resolve("raw"), raw);
        Path b64 = Files.writeString(dir.resolve("b64"), Base64.getEncoder().encodeToString(raw) + "\n");
        byte[] plain = {1, 2, 3};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BackupKey.read(rawFile).encrypt(out, o -> {
            o.write(plain);
            return 3;
        });
        Path enc = Files.write(dir.resolve("enc"), out.toByteArray());
        BackupKey.read(b64).decrypt(enc, dir.resolve("dec"), "enc");
        assertThat(Files.readAllBytes(dir.resolve("dec"))).isEqualTo(plain);

        Path secretText = Files.writeString(dir.resolve("short"), "hunter2");
        assertThatThrownBy(() -> BackupKey.read(secretText))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("the backup key file " + secretText + " holds 7 bytes; it must hold 32 random bytes or"
                        + " their base64 (head -c 32 /dev/urandom > FILE)")
                .hasMessageNotContaining("hunter2");
        Path b64Of16 = Files.writeString(dir.resolve("b16"), Base64.getEncoder().encodeToString(new byte[16]));
        assertThatThrownBy(() -> BackupKey.read(b64Of16)).hasMessageContaining("holds 24 bytes");
        assertThatThrownBy(() -> BackupKey.read(dir.resolve("none")))
                .hasMessage("no backup key file " + dir.resolve("none"));
        assertThat(BackupKey.read(rawFile).toString()).doesNotContain("7");
    }
}
