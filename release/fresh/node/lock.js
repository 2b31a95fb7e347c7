// release/verify.sh's Node application: takes release/verify from the server at argv[2].
const { Client } = require("holdfast-client");

async function main() {
  const client = await Client.connect({ members: [process.argv[2]], clientName: "release-verify" });
  try {
    const lease = await client.acquire("release/verify", { waitMs: 30_000 });
    console.log(`node: holding release/verify with fencing token ${lease.fencingToken}`);
    await lease.release();
  } finally {
    await client.close();
  }
}

main().catch((e) => {
  console.error(`node: ${e.code ?? e.name}: ${e.message}`);
  process.exitCode = 1;
});
