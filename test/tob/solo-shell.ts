// A consensus shell in solo mode (one validator: it commits at once) over real LevelDB, for the
// shell tests: open it on a directory with the height the application applied, and wait for a
// condition on what it delivered.
import assert from "node:assert/strict";
import { TobShell } from "../../node/tob/shell.js";
import type { Delivery } from "../../node/tob/core/index.js";
import { generateKeyPair, signWith, type KeyPair } from "../../node/keys.js";
import { nodeEd25519Verify } from "../../node/platform.js";

export const soloKey: KeyPair = generateKeyPair();

/** Opens and starts a solo shell on `dir`; its deliveries are pushed onto `got`. */
export async function openSolo(
  dir: string,
  appliedHeight: number,
  got: Delivery[],
  retentionBytes?: number,
): Promise<TobShell> {
  const shell = await TobShell.open({
    dir,
    core: {
      networkId: new TextEncoder().encode("shell-test"),
      signer: { publicKey: soloKey.publicKey, sign: (m) => signWith(soloKey, m) },
      verifier: { verify: nodeEd25519Verify },
      genesisValidators: [soloKey.publicKey],
    },
    tickMs: 10,
    ...(retentionBytes === undefined ? {} : { retentionBytes }),
    appliedHeight,
    send: () => assert.fail("solo mode sends nothing"),
    deliver: async (d) => void got.push(d),
  });
  shell.start((e) => assert.fail(String(e)));
  return shell;
}

/** Waits up to 5 s for `cond`. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

/** Submits the request `text` alone and waits until the shell has delivered it. */
export async function deliverOne(shell: TobShell, got: readonly Delivery[], text: string): Promise<void> {
  shell.submit([new TextEncoder().encode(text)]);
  await until(() => got.some((d) => d.requests.some((r) => new TextDecoder().decode(r) === text)), text);
}
