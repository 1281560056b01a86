// Compiles every .proto under proto/ into one static protobufjs module (proto/gen/index.js) and its
// TypeScript declarations. Runs on `npm install` so a fresh clone needs no other tool.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoDir = join(root, "proto");
const outDir = join(protoDir, "gen");

function protoFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (path === outDir) return [];
    if (statSync(path).isDirectory()) return protoFiles(path);
    return name.endsWith(".proto") ? [relative(protoDir, path)] : [];
  });
}

const bin = (name) => join(root, "node_modules", "protobufjs-cli", "bin", name);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "package.json"), '{ "type": "commonjs" }\n');
const files = protoFiles(protoDir).sort();
// Absolute paths: pbjs keys loaded files by path, and resolves imports (e.g. relayer.proto importing
// block.proto) to absolute paths, so a relative name here would load the imported file twice.
execFileSync(process.execPath, [bin("pbjs"), "-t", "static-module", "-w", "commonjs", "--force-long", "-p", protoDir, "-o", join(outDir, "index.js"), ...files.map((f) => join(protoDir, f))], { cwd: protoDir, stdio: "inherit" });
execFileSync(process.execPath, [bin("pbts"), "-o", join(outDir, "index.d.ts"), join(outDir, "index.js")], { stdio: "inherit" });
console.log(`proto: compiled ${files.length} files into proto/gen`);
