// DOM helpers of the explorer page: elements, the verification marks, and how bytes are shown.
import { fromUtf8, toHex } from "../../client/portable.js";

/** Bytes of a value shown before it is cut (values may be up to a megabyte). */
export const SHOWN_VALUE_BYTES = 512;
/** Hex digits shown of a hash. */
export const SHOWN_HASH_DIGITS = 16;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** The green mark of a value checked against the certified header at `height`. */
export function verifiedMark(height: bigint): HTMLElement {
  return el(
    "span",
    { class: "mark ok", "data-height": String(height) },
    `✔ verified against certified header ${height}`,
  );
}

/**
 * The red mark of an answer that failed verification (an SDK error, its code a string), or that
 * could not be checked (a transport error, a missing header): never a value.
 */
export function failureMark(e: unknown): HTMLElement {
  const code = (e as { code?: unknown } | null)?.code;
  const text = e instanceof Error ? e.message : String(e);
  const checked = typeof code === "string";
  // An SDK error's message already starts with its code.
  const prefix = checked && !text.startsWith(code) ? `${code}: ` : "";
  const what = checked ? "verification failed" : "could not be checked";
  return el("div", { class: "mark fail", role: "alert" }, `✘ ${what}: ${prefix}${text}`);
}

export function shortHex(b: Uint8Array): string {
  return toHex(b).slice(0, SHOWN_HASH_DIGITS) + "…";
}

/** A value as text when it is printable UTF-8, else as hex; cut at SHOWN_VALUE_BYTES. */
export function showValue(v: Uint8Array | null | undefined): string {
  if (v === null) return "(absent)";
  if (v === undefined) return "(not kept by this node)";
  const cut = v.length > SHOWN_VALUE_BYTES ? "…" : "";
  const head = v.subarray(0, SHOWN_VALUE_BYTES);
  try {
    const t = fromUtf8(head);
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(t)) return t + cut;
  } catch {
    /* not UTF-8: shown as hex */
  }
  return "0x" + toHex(head) + cut;
}

/** A link that searches for `q` (a key, a prefix, a height or a request id). */
export function searchLink(q: string, text = q): HTMLAnchorElement {
  return el("a", { href: "#", "data-q": q }, text);
}

/** Replaces the contents of the section `id`. */
export function fill(id: string, ...children: (Node | string)[]): void {
  const s = document.getElementById(id);
  if (s) s.replaceChildren(...children);
}

export function table(
  head: readonly string[],
  rows: readonly (readonly (Node | string)[])[],
): HTMLTableElement {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))),
  );
}
