// The one validator-set transition check (client/transition.ts) that the light client and the
// validator history share: each way a node could invent a change is refused, by the shared check
// and by both of its users alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair } from "../../node/keys.js";
import { quorum, validatorsHash, type Header, type Validator } from "../../node/ledger/header.js";
import { chainId } from "../../node/ledger/genesis.js";
import { certifyHeader, genesisOf } from "../ledger/light-chain.js";
import { encodeValidators } from "../../node/ledger/validators-codec.js";
import { installNodeSha256 } from "../../node/platform.js";
import { verifyTransition, type Transition } from "../../client/transition.js";
import { LightClient } from "../../client/light.js";
import { ValidatorHistory } from "../../client/validator-history.js";

installNodeSha256();

const keys = Array.from({ length: 4 }, () => generateKeyPair());
const genesis = genesisOf("transition", keys);
const chain = chainId(genesis);
const all: Validator[] = keys.map((k, id) => ({ id, publicKey: k.publicKey }));
const after = all.filter((v) => v.id !== 3);

interface Options {
  height?: bigint;
  nextFromHeight?: bigint;
  signers?: number;
  chain?: Uint8Array;
  next?: Validator[];
}

/** A transition decided at `height` (default 20), signed by `signers` of the genesis set. */
function transition(o: Options = {}): Transition {
  const height = o.height ?? 20n;
  const header: Header = {
    chain: o.chain ?? chain,
    height,
    timestamp: height,
    root: new Uint8Array(32),
    receiptsRoot: new Uint8Array(32),
    indexRoot: new Uint8Array(32),
    validatorsHash: validatorsHash(all),
    previous: new Uint8Array(32),
    nextValidatorsHash: validatorsHash(after),
    nextFromHeight: o.nextFromHeight ?? height + 9n,
  };
  return {
    certificate: certifyHeader(header, all.slice(0, o.signers ?? quorum(all.length)), keys),
    next: encodeValidators(o.next ?? after),
  };
}

const forged: Array<[string, Transition]> = [
  ["another chain", transition({ chain: new Uint8Array(32).fill(7) })],
  ["f+1 signatures", transition({ signers: 2 })],
  ["next set starting at its own height", transition({ nextFromHeight: 20n })],
  ["next set starting before it", transition({ nextFromHeight: 3n })],
  ["another next set than the header names", transition({ next: all })],
];

test("the shared check accepts a good transition and refuses each forged one", () => {
  const ok = verifyTransition(transition(), chain, 0n, null, () => all);
  assert.equal(ok.header.header.height, 20n);
  assert.deepEqual(
    ok.next.map((v) => v.id),
    [0, 1, 2],
  );
  for (const [what, t] of forged)
    assert.throws(
      () => verifyTransition(t, chain, 0n, null, () => all),
      { code: "client/bad-transition" },
      what,
    );
  // Out of the asked range: not after `after`, or past `until`.
  assert.throws(() => verifyTransition(transition(), chain, 20n, null, () => all), {
    code: "client/bad-transition",
  });
  assert.throws(() => verifyTransition(transition(), chain, 0n, 19n, () => all), {
    code: "client/bad-transition",
  });
});

test("the light client and the validator history refuse the same forged transitions", async () => {
  for (const [what, t] of forged) {
    const light = new LightClient(genesis, {
      transitions: async () => [t],
      header: async () => {
        throw new Error("not reached: the transition is refused first");
      },
    });
    await assert.rejects(light.header(30n), { code: "client/bad-transition" }, `light client: ${what}`);
    const history = new ValidatorHistory(genesis, chain);
    assert.throws(() => history.learn([t]), { code: "client/bad-transition" }, `validator history: ${what}`);
    assert.equal(history.learnedUpTo, 0n, what);
  }
  const history = new ValidatorHistory(genesis, chain);
  history.learn([transition()]);
  assert.equal(history.setAt(29n).length, 3);
  assert.equal(history.setAt(28n).length, 4);
});
