package io.holdfast.server.backup;

import io.holdfast.InvalidArgumentException;
import java.io.DataInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.CipherOutputStream;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The operator's backup key ({@code --backup-key FILE}) and the encrypted form of a backup it
 * makes: AES-256-GCM from the JDK over the whole {@link BackupFile}, behind a header of the magic
 * {@code HFBE}, the format version ({@value #VERSION}) and a random 12-byte nonce, fresh for every
 * backup. The header is the cipher's associated data, so it is authenticated with the rest.
 *
 * <p><b>Guarantees.</b> Without the key, an encrypted backup tells nothing of the table but its
 * length. A wrong key, and any byte changed, added or cut anywhere in the file, header included,
 * fail {@link #decrypt} with one line ("wrong key, or the backup was changed") before a byte of
 * the table is used. A key file is 32 bytes, or their base64; anything else is refused in one line
 * that does not print what the file holds.
 *
 * <p><b>Not guaranteed.</b> Decrypting holds the backup in memory once (the JDK's GCM releases no
 * plaintext before it has checked the tag); a restore loads the whole table into memory anyway.
 * The key is not rotated for you: an old backup needs the key it was written with. Nothing
 * stops an old, genuine backup from being put in place of a newer one.
 *
 * <p><b>Failure story.</b> An operator restores with last year's key. {@code holdfast restore}
 * stops with "s3://…/holdfast-….hfbk cannot be decrypted: wrong key, or the backup was changed",
 * exit 64, and the data directory is untouched.
 */
public final class BackupKey {
    /** The first bytes of an encrypted backup: "HFBE". */
    static final int MAGIC = 0x48464245;
    /** The version of the encrypted form this build writes and reads. */
    public static final int VERSION = 1;

    private static final int NONCE_BYTES = 12;
    private static final int HEADER_BYTES = 4 + 4 + NONCE_BYTES;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;

    private BackupKey(byte[] key) {
        this.key = new SecretKeySpec(key, "AES");
    }

    /**
     * Reads a key file: exactly 32 bytes, or the base64 of 32 bytes (surrounding white space
     * ignored).
     *
     * @throws InvalidArgumentException in one line naming the file and what is wrong with it
     */
    public static BackupKey read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InvalidArgumentException("no backup key file " + file);
        } catch (IOException e) {
            throw new InvalidArgumentException(
                    "cannot read the backup key file " + file + ": " + BackupDownload.cause(e, file.getParent()));
        }
        if (bytes.length == 32) {
            return new BackupKey(bytes);
        }
        String text = new String(bytes, StandardCharsets.US_ASCII).strip();
        try {
            byte[] decoded = Base64.getDecoder().decode(text);
            if (decoded.length == 32) {
                return new BackupKey(decoded);
            }
        } catch (IllegalArgumentException e) {
            // not base64: refused below
        }
        throw new InvalidArgumentException("the backup key file " + file + " holds " + bytes.length
                + " bytes; it must hold 32 random bytes or their base64 (head -c 32 /dev/urandom > FILE)");
    }

    /** A key of the given 32 bytes (tests). */
    static BackupKey of(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("an AES-256 key is 32 bytes, not " + key.length);
        }
        return new BackupKey(key.clone());
    }

    /** Whether {@code file} starts as an encrypted backup does ({@code HFBE}). */
    public static boolean isEncrypted(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && ByteBuffer.wrap(head).getInt() == MAGIC;
        }
    }

    /**
     * Writes the encrypted form of what {@code plain} writes to {@code out}: the header, then the
     * ciphertext and its tag. Does not close {@code out}.
     *
     * @return the bytes written
     */
    long encrypt(OutputStream out, BackupFile.Writer plain) throws IOException {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        byte[] header = header(nonce);
        Cipher cipher = cipher(Cipher.ENCRYPT_MODE, nonce, header);
        out.write(header);
        long[] written = {0};
        // The cipher's stream is closed to write the tag; the caller's stream stays open.
        OutputStream kept = new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                written[0] += len;
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
                written[0]++;
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
        try (CipherOutputStream encrypted = new CipherOutputStream(kept, cipher)) {
            plain.writeTo(encrypted);
        }
        return HEADER_BYTES + written[0];
    }

    /** Writes the encrypted form of the file {@code plain} into {@code out} (see {@link #encrypt}). */
    public long encrypt(Path plain, OutputStream out) throws IOException {
        return encrypt(out, o -> {
            try (InputStream in = Files.newInputStream(plain)) {
                return in.transferTo(o);
            }
        });
    }

    /**
     * Decrypts the encrypted backup {@code encrypted} into the file {@code plain}, which is written
     * only once the tag checked.
     *
     * @param name how the backup is named in a refusal (the operator's path or URI)
     * @throws InvalidArgumentException in one line: not an encrypted backup, a version this build
     *     does not read, or a wrong key or a changed byte
     */
    public void decrypt(Path encrypted, Path plain, String name) throws IOException {
        long size = Files.size(encrypted);
        try (InputStream in = Files.newInputStream(encrypted)) {
            DataInputStream data = new DataInputStream(in);
            if (size < HEADER_BYTES + TAG_BITS / 8 || data.readInt() != MAGIC) {
                throw new InvalidArgumentException(name + " is no encrypted Holdfast backup");
            }
            int version = data.readInt();
            if (version != VERSION) {
                throw new InvalidArgumentException(
                        name + " is encrypted in version " + version + "; this build reads version " + VERSION);
            }
            byte[] nonce = new byte[NONCE_BYTES];
            data.readFully(nonce);
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, nonce, header(nonce));
            byte[] buffer = new byte[1 << 16];
            int n;
            try (OutputStream out = Files.newOutputStream(plain)) {
                while ((n = data.read(buffer)) >= 0) {
                    byte[] part = cipher.update(buffer, 0, n);
                    if (part != null) {
                        out.write(part);
                    }
                }
                out.write(cipher.doFinal());
            }
        } catch (AEADBadTagException e) {
            Files.deleteIfExists(plain);
            throw new InvalidArgumentException(
                    name + " cannot be decrypted: wrong key, or the backup was changed (its AES-GCM tag does not"
                            + " match)");
        } catch (GeneralSecurityException e) {
            Files.deleteIfExists(plain);
            throw new IllegalStateException("this JVM cannot decrypt AES-GCM: " + e.getMessage(), e);
        }
    }

    private static byte[] header(byte[] nonce) {
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        header.putInt(MAGIC).putInt(VERSION).put(nonce);
        return header.array();
    }

    private Cipher cipher(int mode, byte[] nonce, byte[] aad) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad);
            return cipher;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no AES-GCM: " + e.getMessage(), e);
        }
    }

    /** Never the key. */
    @Override
    public String toString() {
        return "BackupKey[AES-256]";
    }
}
