// Run by crash.test.ts and killed with SIGKILL at a random moment: commits the workload's versions
// one after another, each with a block record in the same batch, and prints each version once it
// is committed.
import { Level } from "level";
import { MerkleStore } from "../../merkle-store/index.ts";
import { accountKey, writesFor } from "./crash-workload.ts";

const dir = process.argv[2];
const db = new Level(dir);
const store = await MerkleStore.open(db.sublevel("state"));
const blocks = db.sublevel("blocks");
// Bounded, in case the parent dies without killing us.
const deadline = Date.now() + 60_000;
while (Date.now() < deadline) {
  for (const [account, value] of writesFor(store.version + 1)) {
    if (value === undefined) store.delete(accountKey(account));
    else store.set(accountKey(account), value);
  }
  const { version } = await store.commit((batch, { version, root }) => {
    batch.put(String(version), Buffer.from(root).toString("hex"), { sublevel: blocks });
  });
  process.stdout.write(`${version}\n`);
}
await db.close();
