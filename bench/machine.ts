// Shared benchmark helpers: machine description, medians, progress lines.
import { lstatSync, readFileSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

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

/** Resident set of a process in MiB (VmRSS from /proc/PID/status), or NaN once it is gone. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** A node's JavaScript memory, from its Prometheus metrics (prom-client's process gauges), in MiB. */
export interface HeapFigures {
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
}

/** Reads HeapFigures from the metrics port of a node on this machine; NaNs when it does not answer. */
export async function heapFigures(port: number | undefined): Promise<HeapFigures> {
  const none = { heapUsedMiB: NaN, heapTotalMiB: NaN, externalMiB: NaN };
  if (port === undefined) return none;
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const gauge = (name: string): number => {
      const m = new RegExp(`^${name} ([0-9.e+]+)`, "m").exec(text);
      return m ? Number(m[1]) / 2 ** 20 : NaN;
    };
    return {
      heapUsedMiB: gauge("nodejs_heap_size_used_bytes"),
      heapTotalMiB: gauge("nodejs_heap_size_total_bytes"),
      externalMiB: gauge("nodejs_external_memory_bytes"),
    };
  } catch {
    return none;
  }
}

/**
 * The sizes of the regular files under `dir`, summed, recursively (symbolic links are not
 * followed); 0 for a directory that does not exist. Files that vanish while it walks (a database
 * compacting) count as 0.
 */
export function dirBytes(dir: string): number {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let bytes = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) bytes += dirBytes(p);
    else if (e.isFile())
      try {
        bytes += lstatSync(p).size;
      } catch {
        /* gone meanwhile */
      }
  }
  return bytes;
}

/** dirBytes of each entry directly under `dir` (files at the top as themselves), by name. */
export function dirBreakdown(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out[e.name] = dirBytes(p);
    else if (e.isFile())
      try {
        out[e.name] = lstatSync(p).size;
      } catch {
        /* gone meanwhile */
      }
  }
  return out;
}

/** Whether `--name` is on the command line. */
export function hasFlag(name: string, argv: readonly string[] = process.argv): boolean {
  return argv.includes(`--${name}`);
}

/** The number after `--name` on the command line, `dflt` without it; throws on a non-number. */
export function numberFlag(name: string, dflt: number, argv: readonly string[] = process.argv): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (argv[i + 1] === undefined || !Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

/** A small seeded generator of numbers in [0, 1) (mulberry32): runs repeat the same sequence. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
