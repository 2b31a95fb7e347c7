import io.holdfast.Lease;
import io.holdfast.LockClient;
import java.time.Duration;

/** release/verify.sh's Java application: takes release/verify from the server at args[0] and prints its token. */
public final class Main {
    public static void main(String[] args) throws InterruptedException {
        try (LockClient client = LockClient.open(args[0])) {
            Lease lease = client.lock("release/verify").acquire(Duration.ofSeconds(30));
            System.out.println("java: holding release/verify with fencing token " + lease.fencingToken());
            lease.release();
        }
    }
}
