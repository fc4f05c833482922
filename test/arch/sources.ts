// The TypeScript sources the architecture tests read: every .ts file below the given folders, not
// declaration files, dependencies, generated code or AssemblyScript (which is not this TypeScript).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SKIPPED = new Set(["node_modules", "gen", "assembly"]);

/** Paths of the source files below `dirs` (each joined to its folder as given: relative or absolute). */
export function sourceFiles(...dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (SKIPPED.has(name)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}
