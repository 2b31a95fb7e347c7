// Takes a lock, writes a register fenced by it, releases it.
// Run from clients/node after `npm ci && npm run build`, with a server running (`./holdfast server`):
//   node examples/lock.js
const { Client, LockTimeoutError } = require("../dist");

async function main() {
  const client = await Client.connect({
    members: (process.env.HOLDFAST_MEMBERS ?? "http://127.0.0.1:4655").split(","),
    clientName: "example",
  });
  try {
    const lease = await client.acquire("jobs/nightly", { waitMs: 10_000, leaseMs: 30_000 });
    lease.onLost((reason) => console.log(`lost jobs/nightly (${reason}): stop working`));
    try {
      console.log(`holding jobs/nightly, fencing token ${lease.fencingToken}`);
      const report = client.register("reports/nightly");
      const { version } = await report.get();
      const next = await report.compareAndSet(version, `written under token ${lease.fencingToken}`, { fence: lease });
      console.log(`reports/nightly is now at version ${next}`);
    } finally {
      await lease.release();
    }
  } catch (e) {
    if (!(e instanceof LockTimeoutError)) throw e;
    console.log(`jobs/nightly is busy: ${e.message}`);
  } finally {
    await client.close();
  }
}

main().catch((e) => {
  console.error(`${e.code ?? e.name}: ${e.message}`);
  process.exitCode = 1;
});
