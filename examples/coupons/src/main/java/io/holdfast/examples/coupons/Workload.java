package io.holdfast.examples.coupons;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The requests of one run, the same for every strategy: each user asks {@code perUser + 1} times (one more
 * than allowed) for a coupon of its campaign, in a shuffled order, and request {@code j} goes to instance
 * {@code j % instances}, so one user's requests land on different instances, as behind a load balancer.
 */
final class Workload {
    /** One request: this user wants a coupon of this campaign. */
    record Request(long user, int campaign) {}

    private Workload() {}

    static List<Request> all(long seed, int users, int campaigns, int perUser) {
        List<Request> requests = new ArrayList<>(users * (perUser + 1));
        for (int u = 1; u <= users; u++) {
            int campaign = 1 + (u - 1) % campaigns;
            for (int k = 0; k <= perUser; k++) {
                requests.add(new Request(u, campaign));
            }
        }
        Collections.shuffle(requests, new Random(seed));
        return requests;
    }

    /** The requests instance {@code index} (0-based) of {@code instances} serves. */
    static List<Request> forInstance(List<Request> all, int index, int instances) {
        List<Request> mine = new ArrayList<>(all.size() / instances + 1);
        for (int j = index; j < all.size(); j += instances) {
            mine.add(all.get(j));
        }
        return mine;
    }
}
