// Service registry: register an instance under the session, list and watch the group, print joins
// and leaves (docs/service-discovery.md; the same program is in Python, Go and Java).
// Run from clients/node after `npm ci && npm run build`:
//   node examples/service-registry.js SERVICE [INSTANCE ADDRESS]
// With INSTANCE and ADDRESS it registers services/SERVICE/INSTANCE = ADDRESS, attached to its
// session, so the entry goes when the process dies (after the session's TTL: HOLDFAST_TTL_MS,
// default 10000). It prints `member I A` per instance listed, `ready`, then `join I A` and
// `leave I CAUSE` as the group changes, until killed. HOLDFAST_MEMBERS: the servers' HTTP addresses.
const { Client } = require("../dist");

async function main(args) {
  if (args.length !== 1 && args.length !== 3) throw new Error("usage: service-registry.js SERVICE [INSTANCE ADDRESS]");
  const client = await Client.connect({
    members: (process.env.HOLDFAST_MEMBERS ?? "http://127.0.0.1:4655").split(","),
    ttlMs: Number(process.env.HOLDFAST_TTL_MS ?? 10_000),
    clientName: "service-registry",
  });
  const group = client.keys().group(`services/${args[0]}`); // keys services/SERVICE/<instance>
  if (args.length === 3) await group.join(args[1], args[2]); // attached: gone with the session
  let known = new Map();
  for (const [instance, address] of [...(await group.members())].sort()) { // the listing
    known.set(instance, new TextDecoder().decode(address));
    console.log(`member ${instance} ${known.get(instance)}`);
  }
  console.log("ready");
  for await (const event of group.watch()) { // state, then every change
    const instance = group.member(event.name);
    if (event.type === "state") { // first, and after a gap
      const now = new Map(event.keys.map((k) => [group.member(k.key), k.text]));
      for (const gone of [...known.keys()].filter((i) => !now.has(i)).sort()) console.log(`leave ${gone} unknown`);
      for (const added of [...now.keys()].filter((i) => !known.has(i)).sort()) console.log(`join ${added} ${now.get(added)}`);
      known = now;
    } else if (event.type === "registerSet" && !known.has(instance)) {
      known.set(instance, new TextDecoder().decode(event.value));
      console.log(`join ${instance} ${known.get(instance)}`);
    } else if (event.type === "registerDeleted" && known.delete(instance)) {
      console.log(`leave ${instance} ${event.cause ?? "deleted"}`);
    }
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`service-registry: ${e.message}`);
  process.exit(1);
});
