// Derived headers by height, and the evidence of conflicting signed headers, in LevelDB. Headers are
// derived from firm blocks only, and a firm block is never rolled back, so RollupStore.rollbackTo
// never reaches below the latest header.
import type { AbstractSublevel } from "abstract-level";
import type { Db } from "../merkle-store/index.ts";
import { sha256 } from "../celestia/sha256.ts";
import { decodeHeader, encodeHeader, headerHash, type RollupHeader } from "./header.ts";
import { decodeEvidence, encodeEvidence, type HeaderEvidence } from "./header-compare.ts";
import { uint64Key } from "./uint64.ts";

type Sublevel = AbstractSublevel<Db, string | Buffer | Uint8Array, Uint8Array, Uint8Array>;

const VIEW = { keyEncoding: "view", valueEncoding: "view" } as const;

export class HeaderStore {
  readonly #headers: Sublevel;
  readonly #evidence: Sublevel;
  #latest: RollupHeader | undefined;

  private constructor(headers: Sublevel, evidence: Sublevel, latest: RollupHeader | undefined) {
    this.#headers = headers;
    this.#evidence = evidence;
    this.#latest = latest;
  }

  /** Opens the headers kept in `db` (the rollup's database or a sublevel; the names do not clash with RollupStore's). */
  static async open(db: Db): Promise<HeaderStore> {
    const sublevel = (name: string) => db.sublevel<Uint8Array, Uint8Array>(name, VIEW) as unknown as Sublevel;
    const headers = sublevel("headers");
    const [latest] = await headers.values({ reverse: true, limit: 1 }).all();
    return new HeaderStore(headers, sublevel("evidence"), latest === undefined ? undefined : decodeHeader(latest));
  }

  get latest(): RollupHeader | undefined {
    return this.#latest;
  }

  async header(height: bigint): Promise<RollupHeader | undefined> {
    if (height < 0n) return undefined;
    const bytes = await this.#headers.get(uint64Key(height));
    return bytes === undefined ? undefined : decodeHeader(bytes);
  }

  /** Stores the next header: height latest + 1 (1 for the first), chained to the latest by its parent hash. */
  async append(header: RollupHeader): Promise<void> {
    const latest = this.#latest;
    const expected = latest === undefined ? 1n : latest.height + 1n;
    if (header.height !== expected) throw new RangeError(`header ${header.height} does not follow the latest header (${expected - 1n})`);
    if (latest !== undefined && (header.chainId !== latest.chainId || Buffer.compare(header.parentHash, headerHash(latest)) !== 0)) {
      throw new Error(`header ${header.height} does not chain to header ${latest.height}`);
    }
    await this.#headers.put(uint64Key(header.height), encodeHeader(header));
    this.#latest = header;
  }

  /** Keeps `evidence`; the same conflicting header twice is kept once. */
  async putEvidence(evidence: HeaderEvidence): Promise<void> {
    const received = headerHash(evidence.received.header);
    await this.#evidence.put(uint64Key(evidence.local.height, sha256(received, evidence.signerPubKey)), encodeEvidence(evidence));
  }

  /** All kept evidence, by height. */
  async evidence(): Promise<HeaderEvidence[]> {
    return (await this.#evidence.values().all()).map(decodeEvidence);
  }
}
