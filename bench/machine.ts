// Shared benchmark helpers: machine description, medians, progress lines.
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
