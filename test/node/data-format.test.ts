// The data directory's format marker (node/data-format.ts): a new directory gets one, a reopened
// one is checked against it, and a directory with data but no marker, a marker of another format
// (older or newer) or of another chain is refused with its typed error before anything is opened.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LevelStore } from "../../node/store/level-store.js";
import { Partition } from "../../node/store/core/partition.js";
import { installNodeSha256 } from "../../node/platform.js";
import {
  DATA_FORMAT_VERSION,
  DataFormatError,
  FORMAT_FILE,
  decodeMarker,
  encodeMarker,
  openDataDir,
  readMarker,
  type DataFormatCode,
} from "../../node/data-format.js";

installNodeSha256();
const CHAIN = new Uint8Array(32).fill(0xab);
const OTHER = new Uint8Array(32).fill(0xcd);

function withDir(f: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const root = mkdtempSync(join(tmpdir(), "arbor-format-"));
    try {
      await f(join(root, "data"));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
}

function refused(dir: string, chain: Uint8Array, code: DataFormatCode, message: RegExp): void {
  assert.throws(
    () => openDataDir(dir, chain),
    (e: unknown) => e instanceof DataFormatError && e.code === code && message.test(e.message),
  );
}

test(
  "a new directory is created with a marker of this format and chain, written whole",
  withDir((dir) => {
    assert.equal(openDataDir(dir, CHAIN), "created");
    assert.deepEqual(readdirSync(dir), [FORMAT_FILE], "no temporary file is left behind");
    const text = readFileSync(join(dir, FORMAT_FILE), "utf8");
    assert.equal(text, `{"format":${DATA_FORMAT_VERSION},"chain":"${"ab".repeat(32)}"}\n`);
    assert.deepEqual(readMarker(dir), { format: DATA_FORMAT_VERSION, chain: CHAIN });
  }),
);

test(
  "a directory is reopened under its marker, which stays as it was",
  withDir((dir) => {
    openDataDir(dir, CHAIN);
    const before = readFileSync(join(dir, FORMAT_FILE), "utf8");
    assert.equal(openDataDir(dir, CHAIN), "opened");
    assert.equal(readFileSync(join(dir, FORMAT_FILE), "utf8"), before);
  }),
);

test(
  "an existing empty directory, or one with only a temporary marker left by a crash, is new",
  withDir((dir) => {
    openDataDir(dir, CHAIN);
    rmSync(join(dir, FORMAT_FILE));
    writeFileSync(join(dir, FORMAT_FILE + ".tmp"), "{");
    assert.equal(openDataDir(dir, CHAIN), "created");
    assert.equal(openDataDir(dir, CHAIN), "opened");
  }),
);

test(
  "a directory with a store but no marker was written by an older version: refused, left untouched",
  withDir(async (dir) => {
    const store = await LevelStore.open(join(dir, "store"), { partition: Partition.whole(), T: 4 });
    await store.close();
    refused(dir, CHAIN, "store/unknown-format", /older version; re-sync or start from an empty directory/);
    assert.equal(existsSync(join(dir, FORMAT_FILE)), false, "no marker is written over old data");
  }),
);

test(
  "other files do not count as data; consensus data without a marker is refused",
  withDir((dir) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "notes.txt"), "not a database");
    mkdirSync(join(dir, "store")); // an empty database directory holds nothing
    assert.equal(openDataDir(dir, CHAIN), "created");
    rmSync(join(dir, FORMAT_FILE));
    mkdirSync(join(dir, "consensus"));
    writeFileSync(join(dir, "consensus", "CURRENT"), "MANIFEST-000001\n");
    refused(dir, CHAIN, "store/unknown-format", /no format marker/);
  }),
);

test(
  "an older format is refused as older, a newer one as newer",
  withDir((dir) => {
    openDataDir(dir, CHAIN);
    const file = join(dir, FORMAT_FILE);
    writeFileSync(file, encodeMarker({ format: DATA_FORMAT_VERSION - 1, chain: CHAIN }));
    refused(
      dir,
      CHAIN,
      "store/format-mismatch",
      new RegExp(`in format ${DATA_FORMAT_VERSION - 1} .*reads format ${DATA_FORMAT_VERSION}.*older version`),
    );
    // a newer format may have other fields: the format alone decides
    writeFileSync(file, JSON.stringify({ format: DATA_FORMAT_VERSION + 1, genesis: "?" }));
    refused(
      dir,
      CHAIN,
      "store/format-mismatch",
      new RegExp(`in format ${DATA_FORMAT_VERSION + 1} .*newer version`),
    );
  }),
);

test(
  "a directory of another chain is refused: the genesis given must be the directory's",
  withDir((dir) => {
    openDataDir(dir, CHAIN);
    refused(dir, OTHER, "store/wrong-chain", /belongs to chain abababababababab….*chain cdcdcdcdcdcdcdcd…/);
    assert.equal(openDataDir(dir, CHAIN), "opened");
  }),
);

test(
  "an unreadable marker is refused as an unknown format",
  withDir((dir) => {
    openDataDir(dir, CHAIN);
    const file = join(dir, FORMAT_FILE);
    for (const text of [
      "",
      "{",
      "[]",
      '{"chain":"ab"}',
      `{"format":-1}`,
      `{"format":${DATA_FORMAT_VERSION}}`,
    ]) {
      writeFileSync(file, text);
      refused(dir, CHAIN, "store/unknown-format", /unreadable/);
    }
  }),
);

test("the marker round-trips", () => {
  const m = { format: DATA_FORMAT_VERSION, chain: CHAIN };
  assert.deepEqual(decodeMarker(encodeMarker(m), "d"), m);
});
