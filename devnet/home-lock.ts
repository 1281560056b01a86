// One devnet per home at a time. The lock file names the supervisor and its children, so that after
// the supervisor itself was killed (kill -9, a closed laptop lid) the next start can stop the
// orphaned children that still hold the ports, instead of failing on "port in use".
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

interface LockContents {
  pid: number;
  children: Record<string, number>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True if `pid` runs a command line that mentions `home`: a pid from an old lock may have been reused. */
function runsIn(pid: number, home: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").some((arg) => arg.startsWith(home));
  } catch {
    return false;
  }
}

function read(path: string): LockContents | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as LockContents;
  } catch {
    return undefined;
  }
}

export class HomeLock {
  readonly #path: string;
  readonly #contents: LockContents = { pid: process.pid, children: {} };

  private constructor(path: string) {
    this.#path = path;
  }

  /** Takes the lock, or says which process holds it. Stops orphans of a supervisor that died. */
  static async acquire(path: string, home: string): Promise<{ lock: HomeLock; orphansStopped: string[] }> {
    const previous = read(path);
    const orphansStopped: string[] = [];
    if (previous && previous.pid !== process.pid && alive(previous.pid)) {
      throw new Error(`a devnet is already running from ${home} (pid ${previous.pid}); stop it with Ctrl-C in its terminal or \`kill ${previous.pid}\`, or use another --home`);
    }
    for (const [name, pid] of Object.entries(previous?.children ?? {})) {
      if (!alive(pid) || !runsIn(pid, home)) continue;
      process.kill(pid, "SIGKILL");
      orphansStopped.push(`${name} (pid ${pid})`);
      // Its ports are free only once it is gone.
      const deadline = Date.now() + 5_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    mkdirSync(dirname(path), { recursive: true });
    const lock = new HomeLock(path);
    lock.#write();
    return { lock, orphansStopped };
  }

  setChild(name: string, pid: number): void {
    this.#contents.children[name] = pid;
    this.#write();
  }

  release(): void {
    rmSync(this.#path, { force: true });
  }

  #write(): void {
    writeFileSync(this.#path, JSON.stringify(this.#contents) + "\n");
  }
}
