// Type-checked by release/verify.sh against the installed package's .d.ts (when a TypeScript
// compiler is at hand): the names and types an application uses.
import { Client, Lease } from "holdfast-client";

export async function take(member: string): Promise<number> {
  const client: Client = await Client.connect({ members: [member], clientName: "release-verify" });
  const lease: Lease = await client.acquire("release/verify", { waitMs: 30_000 });
  const token: number = lease.fencingToken;
  await lease.release();
  await client.close();
  return token;
}
