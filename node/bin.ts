#!/usr/bin/env node
// The `arbor` command. Subcommands are added as they are built; `arbor node --config FILE` runs a node.
import { runNode } from "./main.js";

const USAGE = `usage:
  arbor node --config FILE     run one node in the foreground
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "node") {
    const i = rest.indexOf("--config");
    if (i < 0 || !rest[i + 1]) {
      process.stderr.write(USAGE);
      return 2;
    }
    await runNode(rest[i + 1]!);
    return -1; // keeps running
  }
  process.stderr.write(USAGE);
  return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    process.stderr.write(`arbor: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
