// Builds the native hashers (celestia/native: the NMT hasher, and merkle-store's node hasher in
// jmt_hash.c) with node-gyp on `npm install`. The addon only speeds
// things up: when it cannot be built (no compiler, no headers) this prints why and exits 0, and Metro
// runs on its JavaScript hasher. Plain JavaScript so that it runs under Node 20 as well as 22.
import { execFileSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const addonDir = join(root, "celestia", "native");

// npm's own node-gyp, from npm-cli.js's path.
const besideNpmCli = (npmCli) => join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js");

// npm tells lifecycle scripts where its node-gyp is; run by hand, find the npm on PATH.
function findNodeGyp() {
  const npmOnPath = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "npm")).find((path) => existsSync(path));
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && besideNpmCli(process.env.npm_execpath),
    npmOnPath && besideNpmCli(realpathSync(npmOnPath)),
  ];
  return candidates.find((path) => path && existsSync(path));
}

// Node headers, so node-gyp need not download them: npm's nodedir setting, else those installed with
// the running node. N-API is stable across versions, so any recent Node's headers do.
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  return existsSync(join(prefix, "include", "node", "node_api.h")) ? prefix : undefined;
}

function warn(reason) {
  console.warn(`native: ${reason}`);
  console.warn("native: continuing without the native hashers; commitments and NMT roots use the slower JavaScript hasher, merkle-store hashes tree nodes with node:crypto.");
}

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) {
  warn("node-gyp not found (run through npm, which ships it)");
} else {
  const args = [nodeGyp, "rebuild", "--directory", addonDir];
  const nodeDir = findNodeDir();
  if (nodeDir !== undefined) args.push(`--nodedir=${nodeDir}`);
  try {
    execFileSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    console.log("native: built celestia/native/build/Release/nmt_hash.node");
  } catch (error) {
    const reasons = (error.stderr?.toString() ?? error.message).split("\n").filter((line) => line.trim() !== "" && !/^gyp (info|ERR! (stack|System|command|cwd|node|not ok))/.test(line));
    warn(`build failed:\n${reasons.slice(-12).join("\n")}`);
  }
}
