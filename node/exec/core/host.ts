// The host side of the ABI: the functions an instance imports, bound to a per-instance context
// that the executor points at the current call. Every pointer an op passes is bounds-checked;
// every call is charged from the in-module gas counter before it does any work; failures are
// thrown as HostTrap and become typed rejections. During the start function only abort and trace
// are usable, so a module's initial state can never depend on a call's input.

import { MAX_ABORT_MESSAGE_CHARS } from "../../common/limits.js";
import {
  AS_MODULE,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  HOST_MODULE,
  SHA256_BYTES,
  type RejectReason,
} from "./abi.js";
import {
  GAS_ED25519_PER_WORD,
  GAS_HOST_ED25519_VERIFY,
  GAS_HOST_INPUT_READ,
  GAS_HOST_INPUT_SIZE,
  GAS_HOST_SHA256,
  GAS_HOST_TRACE,
  GAS_SHA256_PER_BLOCK,
  wordsGas,
} from "./gas.js";
import type { WasmGlobal, WasmImports, WasmMemory } from "./wasm-api.js";
import type { SignatureVerifier } from "../../common/signature-verifier.js";

/** Cryptography the host offers to operations; the node injects node:crypto (host-crypto.ts). */
export interface HostCrypto {
  sha256(data: Uint8Array): Uint8Array;
  /** Ed25519 verification for ed25519_verify; must be the one verifier consensus uses. */
  readonly signatures: SignatureVerifier;
}

/** A rejection raised inside a host function; it unwinds the op's stack back to the executor. */
export class HostTrap extends Error {
  constructor(
    readonly reason: RejectReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const EMPTY = new Uint8Array(0);

export class HostContext {
  /** Input blob of the current call; `running` is false during instantiation (start function). */
  input: Uint8Array = EMPTY;
  running = false;
  memory: WasmMemory | undefined;
  gas: WasmGlobal | undefined;
  private buf: ArrayBuffer | undefined;
  private view: Uint8Array = EMPTY;

  constructor(private readonly crypto: HostCrypto | undefined) {}

  /** The current memory as bytes (re-viewed after growth, which replaces the buffer). */
  bytes(): Uint8Array {
    if (!this.memory) return EMPTY; // during instantiation the memory is not reachable yet
    const b = this.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.view = new Uint8Array(b);
    }
    return this.view;
  }

  private range(ptr: number, len: number, what: string): number {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > this.bytes().length) throw new HostTrap("trap", `${what}: pointer out of bounds`);
    return p;
  }

  private charge(cost: bigint): void {
    const g = this.gas!;
    const left = (g.value as bigint) - cost;
    g.value = left < 0n ? -1n : left;
    if (left < 0n) throw new HostTrap("out-of-gas", "out of gas in a host call");
  }

  private needRun(name: string): void {
    if (!this.running) throw new HostTrap("trap", `${name} is not available in the start function`);
  }

  imports(): WasmImports {
    return {
      [HOST_MODULE]: {
        input_size: (): number => {
          this.needRun("input_size");
          this.charge(GAS_HOST_INPUT_SIZE);
          return this.input.length;
        },
        input_read: (ptr: number): void => {
          this.needRun("input_read");
          this.charge(GAS_HOST_INPUT_READ + wordsGas(this.input.length));
          const p = this.range(ptr, this.input.length, "input_read");
          this.bytes().set(this.input, p);
        },
        sha256: (ptr: number, len: number, out: number): void => {
          this.needRun("sha256");
          const n = len >>> 0;
          this.charge(GAS_HOST_SHA256 + BigInt(Math.ceil(n / 64)) * GAS_SHA256_PER_BLOCK);
          const p = this.range(ptr, n, "sha256");
          const o = this.range(out, SHA256_BYTES, "sha256");
          const digest = this.crypto!.sha256(this.bytes().slice(p, p + n));
          this.bytes().set(digest, o);
        },
        ed25519_verify: (pk: number, msg: number, len: number, sig: number): number => {
          this.needRun("ed25519_verify");
          const n = len >>> 0;
          this.charge(GAS_HOST_ED25519_VERIFY + wordsGas(n, GAS_ED25519_PER_WORD));
          const k = this.range(pk, ED25519_PUBLIC_KEY_BYTES, "ed25519_verify");
          const m = this.range(msg, n, "ed25519_verify");
          const s = this.range(sig, ED25519_SIGNATURE_BYTES, "ed25519_verify");
          const mem = this.bytes();
          const ok = this.crypto!.signatures.verify(
            mem.slice(k, k + ED25519_PUBLIC_KEY_BYTES),
            mem.slice(m, m + n),
            mem.slice(s, s + ED25519_SIGNATURE_BYTES),
          );
          return ok ? 1 : 0;
        },
      },
      [AS_MODULE]: {
        abort: (msg: number, file: number, line: number, col: number): void => {
          const text = this.asString(msg);
          const where = this.asString(file);
          let detail = text ?? "abort";
          if (text === null && where !== null) detail += ` at ${where}:${line >>> 0}:${col >>> 0}`;
          throw new HostTrap("trap", detail);
        },
        trace: (): void => {
          if (this.running) this.charge(GAS_HOST_TRACE);
        },
      },
    };
  }

  /**
   * Decodes an AssemblyScript string (UTF-16LE; its byte length is the u32 just before it), cut to
   * MAX_ABORT_MESSAGE_CHARS, lone surrogates replaced by U+FFFD so the text is well-formed.
   * Null for a null or out-of-bounds pointer.
   */
  private asString(ptr: number): string | null {
    const p = ptr >>> 0;
    const mem = this.bytes();
    if (p < 4 || p > mem.length) return null;
    const byteLen = (mem[p - 4]! | (mem[p - 3]! << 8) | (mem[p - 2]! << 16) | (mem[p - 1]! << 24)) >>> 0;
    if (p + byteLen > mem.length) return null;
    const chars = Math.min(byteLen >>> 1, MAX_ABORT_MESSAGE_CHARS);
    const units: number[] = [];
    for (let i = 0; i < chars; i++) units.push(mem[p + 2 * i]! | (mem[p + 2 * i + 1]! << 8));
    for (let i = 0; i < units.length; i++) {
      const c = units[i]!;
      if (
        c >= 0xd800 &&
        c <= 0xdbff &&
        i + 1 < units.length &&
        units[i + 1]! >= 0xdc00 &&
        units[i + 1]! <= 0xdfff
      )
        i++;
      else if (c >= 0xd800 && c <= 0xdfff) units[i] = 0xfffd;
    }
    return String.fromCharCode(...units);
  }
}
