// Shared benchmark helpers: machine description, medians, progress lines.
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

export function machineLine(): string {
  const c = cpus();
  return `machine: ${c[0]?.model ?? "unknown cpu"} × ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; node ${process.version}`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function nowUs(): number {
  return Number(process.hrtime.bigint()) / 1000;
}

/**
 * CPU time (user + system, milliseconds) a process has used so far, from /proc (Linux; clock
 * ticks of 10 ms), or NaN where that is not available.
 */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime (fields 14, 15), USER_HZ = 100
  } catch {
    return NaN;
  }
}
