// Loads the native addon built from this folder on npm install, for the modules that use it
// directly (celestia/merkle.ts, merkle-store/native.ts). Each checks for the functions it needs, so
// an addon built before they existed counts as missing, and each keeps a JavaScript fallback.
import { createRequire } from "node:module";

/** The addon's exports; undefined when it is not built or METRO_NO_NATIVE=1. */
export function loadNativeAddon(): Record<string, unknown> | undefined {
  if (process.env.METRO_NO_NATIVE === "1") return undefined;
  try {
    return createRequire(import.meta.url)("./build/Release/nmt_hash.node") as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
