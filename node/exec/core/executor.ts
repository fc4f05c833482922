// The executor: runs one operation call deterministically and returns its writes and gas used, or
// a typed rejection. Synchronous and pure apart from the engine: crypto is injected, nothing reads
// the clock or the environment. Compiled modules are cached by (code hash, metering version) in a
// bounded LRU, each with one reusable instance that is reset before every call (slot.ts).

import { bytesEqual, bytesToLatin1 } from "../../common/bytes.js";
import { LimitError } from "../../common/errors.js";
import { MAX_GAS_LIMIT, MAX_MODULE_CACHE_ENTRIES } from "../../common/limits.js";
import { STATUS_MEMORY_LIMIT, STATUS_OUT_OF_GAS, STATUS_STACK_LIMIT, type RejectReason } from "./abi.js";
import { Lru } from "./cache.js";
import { writeRule } from "./domain.js";
import { InvalidModuleError } from "./errors.js";
import {
  GAS_INVOKE_BASE,
  GAS_PER_INITIAL_PAGE,
  GAS_REGROW_PER_INITIAL_PAGE,
  GAS_REINSTANTIATE,
  GAS_PER_RESULT_WORD,
  METERING_VERSION,
  wordsGas,
} from "./gas.js";
import { HostTrap, type HostCrypto } from "./host.js";
import { decodeResult, encodeInput, type TouchedRecord, type Write } from "./io.js";
import { compileOp, type CompiledOp } from "./load.js";
import { instantiate, type Slot } from "./slot.js";
import { wasm } from "./wasm-api.js";

export interface ExecRequest {
  /** Key of the operation's record; its domain bounds what the op may write. */
  readonly opKey: string;
  /** The operation's module (the value of its record). */
  readonly code: Uint8Array;
  /**
   * A digest of `code` the caller already has (the proof leaf's value hash, or sha256(code)); used
   * only as the cache key, so it must be collision-resistant and always computed the same way by
   * this node. sha256(code) is computed when it is absent.
   */
  readonly codeHash?: Uint8Array;
  /** Touched records, strictly ascending by UTF-8 key bytes; null value = absent. */
  readonly records: readonly TouchedRecord[];
  readonly args: Uint8Array;
  /** The request signer's 32-byte Ed25519 public key. */
  readonly caller: Uint8Array;
  readonly gasLimit: bigint;
}

export type ExecResult =
  | { readonly ok: true; readonly writes: readonly Write[]; readonly gasUsed: bigint }
  | { readonly ok: false; readonly reason: RejectReason; readonly message: string; readonly gasUsed: bigint };

export interface ExecutorOptions {
  /** Compiled modules kept (default MAX_MODULE_CACHE_ENTRIES). */
  readonly cacheEntries?: number;
  /** false compiles without gas and stack metering. Benchmarks only: never in a node. */
  readonly metered?: boolean;
}

interface Entry {
  readonly op: CompiledOp | undefined;
  readonly error: InvalidModuleError | undefined;
  idle: Slot | undefined;
  /** What a call whose memory grew pays for the fresh instance the next call needs (gas.ts). */
  readonly regrowGas: bigint;
}

function reject(reason: RejectReason, message: string, gasUsed: bigint): ExecResult {
  return { ok: false, reason, message, gasUsed };
}

/** A failed call whose memory grew: it pays for the next instance too, up to its limit. */
function withRegrow(r: ExecResult, regrow: bigint, limit: bigint): ExecResult {
  if (r.ok) return r;
  const used = r.gasUsed + regrow;
  return { ...r, gasUsed: used > limit ? limit : used };
}

/** A stable description of an engine trap (the engine's own wording varies between versions). */
function trapMessage(e: Error): string {
  const m = e.message;
  if (/unreachable/i.test(m)) return "unreachable executed";
  if (/out of bounds/i.test(m) && /memory/i.test(m)) return "memory access out of bounds";
  if (/by zero/i.test(m)) return "integer divide by zero";
  if (/overflow/i.test(m)) return "integer overflow";
  if (/signature|function|table/i.test(m)) return "indirect call failed";
  return "trap";
}

export class Executor {
  private readonly cache: Lru<string, Entry>;
  private readonly metered: boolean;
  /** Modules compiled so far (cache misses); for tests and benchmarks. */
  compiles = 0;
  /** Reused for every call's input blob (the executor is synchronous and not re-entrant). */
  private scratch: Uint8Array = new Uint8Array(1024);

  constructor(
    private readonly crypto: HostCrypto,
    options: ExecutorOptions = {},
  ) {
    this.cache = new Lru(options.cacheEntries ?? MAX_MODULE_CACHE_ENTRIES);
    this.metered = options.metered ?? true;
  }

  private lastHash: Uint8Array | undefined;
  private lastEntry: Entry | undefined;

  private entry(code: Uint8Array, codeHash: Uint8Array | undefined): Entry {
    const hash = codeHash ?? this.crypto.sha256(code);
    // Calling the same op again (the common case) skips building the map key.
    if (this.lastEntry !== undefined && bytesEqual(hash, this.lastHash!)) return this.lastEntry;
    // The hash's bytes as a latin1 string: a cheap, exact map key.
    const key = bytesToLatin1(hash) + METERING_VERSION;
    let e = this.cache.get(key);
    if (e === undefined) {
      this.compiles++;
      try {
        // Instantiating at once runs the start function, whose failure is part of the verdict.
        const op = compileOp(code, this.metered);
        const idle = instantiate(op, this.crypto);
        const regrowGas =
          GAS_REINSTANTIATE + idle.startGas + BigInt(op.initialPages) * GAS_REGROW_PER_INITIAL_PAGE;
        e = { op, error: undefined, idle, regrowGas };
      } catch (err) {
        if (!(err instanceof InvalidModuleError)) throw err;
        e = { op: undefined, error: err, idle: undefined, regrowGas: 0n };
      }
      this.cache.set(key, e);
    }
    this.lastHash = hash.slice();
    this.lastEntry = e;
    return e;
  }

  /** Drops every compiled module (tests use it to prove results do not depend on the cache). */
  clearCache(): void {
    this.cache.clear();
    this.lastHash = undefined;
    this.lastEntry = undefined;
  }

  execute(req: ExecRequest): ExecResult {
    const limit = req.gasLimit;
    if (typeof limit !== "bigint" || limit < 0n || limit > MAX_GAS_LIMIT)
      throw new LimitError("exec/bad-input", `gas limit must be a bigint in [0, ${MAX_GAS_LIMIT}]`);
    const input = encodeInput(req.caller, req.opKey, req.args, req.records, this.scratch);
    this.scratch = input.buffer;

    const entry = this.entry(req.code, req.codeHash);
    if (entry.error) return reject("invalid-module", entry.error.message, 0n);
    const op = entry.op!;
    const base = GAS_INVOKE_BASE + BigInt(op.initialPages) * GAS_PER_INITIAL_PAGE;
    if (limit < base) return reject("out-of-gas", "gas limit below the invocation base cost", limit);

    let slot = entry.idle;
    entry.idle = undefined;
    // The start function succeeded when the entry was made, and it is deterministic, so a fresh
    // instance cannot fail now.
    if (slot === undefined) slot = instantiate(op, this.crypto);
    else if (slot.dirty) slot.view.set(slot.snapshot);

    const ctx = slot.ctx;
    slot.restore(limit - base);
    slot.dirty = true;
    ctx.input = input.blob;
    ctx.running = true;
    let ptr = 0;
    let failure: ExecResult | undefined;
    try {
      ptr = slot.run();
    } catch (err) {
      failure = this.classify(err, slot, limit);
    } finally {
      ctx.running = false;
      ctx.input = EMPTY;
    }
    // An instance whose memory grew cannot be restored; the next call instantiates afresh, and
    // this call pays for it (start function included), or growing and trapping would make nodes
    // re-run start functions for free. A grow by 0 pages keeps the size but still replaces
    // (detaches) the engine's buffer: view it anew.
    const buffer = slot.memory.buffer;
    const grew = buffer.byteLength !== slot.baseBytes;
    const regrow = grew ? entry.regrowGas : 0n;
    if (!grew) {
      if (slot.view.buffer !== buffer) slot.view = new Uint8Array(buffer);
      entry.idle = slot;
    }
    if (failure) return grew ? withRegrow(failure, regrow, limit) : failure;

    let left = (slot.gas.value as bigint) - regrow;
    if (left < 0n)
      return reject("out-of-gas", "out of gas paying for the instance its growth discards", limit);
    const mem = ctx.bytes();
    const p = ptr >>> 0;
    if (p + 4 > mem.length) return reject("malformed-result", "result pointer out of bounds", limit - left);
    const len = (mem[p]! | (mem[p + 1]! << 8) | (mem[p + 2]! << 16) | (mem[p + 3]! << 24)) >>> 0;
    if (p + 4 + len > mem.length)
      return reject("malformed-result", "result length out of bounds", limit - left);
    left -= wordsGas(len, GAS_PER_RESULT_WORD);
    if (left < 0n) return reject("out-of-gas", "out of gas reading the result", limit);

    const verdict = decodeResult(mem.subarray(p + 4, p + 4 + len), req.records, input, writeRule(req.opKey));
    if (!verdict.ok) return reject(verdict.reason, verdict.message, limit - left);
    return { ok: true, writes: verdict.writes, gasUsed: limit - left };
  }

  private classify(err: unknown, slot: Slot, limit: bigint): ExecResult {
    const left = slot.gas.value as bigint;
    const used = left < 0n ? limit : limit - left;
    if (err instanceof HostTrap)
      return reject(err.reason, err.detail, err.reason === "out-of-gas" ? limit : used);
    if (err instanceof wasm.RuntimeError) {
      switch (slot.status.value) {
        case STATUS_OUT_OF_GAS:
          return reject("out-of-gas", "out of gas", limit);
        case STATUS_STACK_LIMIT:
          return reject("stack-limit", "call stack budget exhausted", used);
        case STATUS_MEMORY_LIMIT:
          return reject("memory-limit", "memory would grow past the cap", used);
      }
      return reject("trap", trapMessage(err), used);
    }
    // The budget in MAX_WASM_STACK_UNITS is sized so the engine's own stack never overflows first.
    if (err instanceof RangeError) return reject("stack-limit", "engine stack exhausted", used);
    throw err;
  }
}

const EMPTY = new Uint8Array(0);
