// A throwaway PostgreSQL server for a test: initdb and pg_ctl from Debian's postgresql package into
// a temporary directory, listening on 127.0.0.1 at a free port with its socket in that directory,
// trust authentication for the one user. As root the server runs as the `postgres` user (initdb
// refuses root). `start` says why it cannot when the binaries or that user are missing.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PG_ROOT = "/usr/lib/postgresql";
const USER = "arbor";

export interface PgServer {
  readonly url: string;
  stop(): void;
}

function binDir(): string | null {
  if (!existsSync(PG_ROOT)) return null;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => existsSync(join(PG_ROOT, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(PG_ROOT, versions[0], "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The uid of the `postgres` user, or null. */
function postgresUid(): number | null {
  try {
    return Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  } catch {
    return null;
  }
}

/** A running server, or the reason there is none. */
export async function startPostgres(): Promise<PgServer | string> {
  const bin = binDir();
  if (bin === null) return `no PostgreSQL binaries under ${PG_ROOT} (Debian's postgresql package)`;
  const root = process.getuid?.() === 0;
  const uid = root ? postgresUid() : null;
  if (root && uid === null) return "running as root and there is no postgres user to run the server as";
  const dir = mkdtempSync(join(tmpdir(), "arbor-pg-"));
  if (root) chownSync(dir, uid!, -1);
  const run = (tool: string, args: string[]) =>
    root
      ? execFileSync("runuser", ["-u", "postgres", "--", join(bin, tool), ...args], { stdio: "pipe" })
      : execFileSync(join(bin, tool), args, { stdio: "pipe" });
  const data = join(dir, "data");
  try {
    run("initdb", ["-D", data, "-A", "trust", "-U", USER, "-E", "UTF8", "--no-sync"]);
    const port = await freePort();
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`;
    run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", opts, "-w", "start"]);
    return {
      url: `postgres://${USER}@127.0.0.1:${port}/postgres`,
      stop() {
        try {
          run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `the server did not start: ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`;
  }
}
