// CPU and memory of processes, from /proc: what each devnet component and the load generator cost
// at a given rate, read the same way for all of them.
import { readFileSync } from "node:fs";

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** utime + stime, seconds. */
  cpuSeconds: number;
  /** Time the main thread (Node's event loop) was runnable but waiting for a core, seconds. */
  runQueueSeconds: number;
  rssBytes: number;
}

function sampleProcess(pid: number): ProcessSample {
  // Fields after the parenthesised command name (which may hold spaces): utime is the 12th, stime the 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  // schedstat: time on a core, time waiting on a run queue (ns), timeslices; of the thread group leader.
  const waited = Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e9;
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, runQueueSeconds: waited, rssBytes: rss ? Number(rss[1]) * 1024 : NaN };
}

export interface ProcessUsage {
  name: string;
  /** CPU over the window as % of one core. */
  cpuPercent: number;
  /**
   * Share of the window the event loop was ready to run but had no core: high when the box, not
   * the process, is the limit.
   */
  waitPercent: number;
  /** Resident memory at the end of the window. */
  rssMiB: number;
}

/** CPU time the whole machine spent busy (every core, every process: others' jobs too), seconds. */
function machineBusySeconds(): number {
  // The "cpu" line of /proc/stat: user nice system idle iowait irq softirq steal ..., in ticks.
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

export interface UsageWindow {
  processes: ProcessUsage[];
  /** The whole machine's busy CPU over the window, % of one core (up to 100 x cores). */
  machineCpuPercent: number;
}

/** Samples every process now; `finish` samples again and gives each one's use over the time between. */
export function watchProcesses(pids: ReadonlyMap<string, number>): { finish(): UsageWindow } {
  const started = performance.now();
  const machineBefore = machineBusySeconds();
  // The pids of now: a component restarted meanwhile is another process, reported as gone (NaN).
  const before = [...pids].map(([name, pid]) => ({ name, pid, sample: sampleProcess(pid) }));
  const sampleIfAlive = (pid: number) => {
    try {
      return sampleProcess(pid);
    } catch {
      return { cpuSeconds: NaN, runQueueSeconds: NaN, rssBytes: NaN };
    }
  };
  return {
    finish() {
      const seconds = (performance.now() - started) / 1000;
      const percent = (used: number) => Math.round((100 * used) / seconds);
      const processes = before.map(({ name, pid, sample }) => {
        const after = sampleIfAlive(pid);
        return { name, cpuPercent: percent(after.cpuSeconds - sample.cpuSeconds), waitPercent: percent(after.runQueueSeconds - sample.runQueueSeconds), rssMiB: Math.round(after.rssBytes / 2 ** 20) };
      });
      return { processes, machineCpuPercent: percent(machineBusySeconds() - machineBefore) };
    },
  };
}
