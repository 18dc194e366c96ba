/**
 * @module proc
 * Reads processes from Linux's /proc: a process's CPU time, and the workerd
 * that Miniflare spawned under a host process.
 */
import { readdirSync, readFileSync } from "node:fs";

/**
 * Clock ticks per second of /proc's utime and stime: USER_HZ, 100 on every
 * Linux the benchmark runs on, so one tick is 10 ms of CPU.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

/** Parses /proc/<pid>/stat; `comm` may hold spaces and parentheses, so fields count from the last `)`. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

/** CPU time (user + system) the process and its finished threads used so far, in milliseconds. */
export function cpuTimeMs(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`process ${pid} is gone`);
  return (stat.cpuTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The first process named `comm` among the descendants of `root`, breadth first. */
export function findDescendant(root: number, comm: string): number | null {
  const stats = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== null);
  let level = [root];
  while (level.length > 0) {
    const children = stats.filter((s) => level.includes(s.ppid));
    const found = children.find((s) => s.comm === comm);
    if (found) return found.pid;
    level = children.map((s) => s.pid);
  }
  return null;
}

/** Busy and total clock ticks of the whole machine, all cores (the `cpu` line of /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** utime + stime of `root` and every live descendant, in clock ticks. */
export function treeCpuTicks(root: number): number {
  const stats = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcStat => s !== null);
  let sum = 0;
  let level = [root];
  const seen = new Set<number>();
  while (level.length > 0) {
    for (const pid of level) seen.add(pid);
    sum += stats.filter((s) => level.includes(s.pid)).reduce((total, s) => total + s.cpuTicks, 0);
    level = stats.filter((s) => level.includes(s.ppid) && !seen.has(s.pid)).map((s) => s.pid);
  }
  return sum;
}
