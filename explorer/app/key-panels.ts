// The explorer's key panels: a key's value and its history page by page ("older changes", each page
// chained to the certified index entry by the cursor of the page before), and a prefix listing page
// by page ("next page", after the shown page's last key, each page range-proven), its keys that
// hold an operation marked once their values are verified (operations.ts). Every page carries its
// own mark; a failed check replaces the panel's content with the red failure.
import type { OlderChanges, Verifier } from "./trust.js";
import { operationKeys, type Readers } from "./operations.js";
import { el, failureMark, fill, searchLink, showValue, table, verifiedMark } from "./view.js";

export async function showKey(v: Verifier, key: string): Promise<void> {
  const r = await v.value(key);
  const value = el(
    "section",
    { id: "value" },
    el("h2", {}, key),
    el("pre", { class: "value" }, showValue(r.value)),
    verifiedMark(r.height),
  );
  const history = el("section", { id: "history" }, "history: checking…");
  fill("result", value, history);
  await showHistory(v, key, null, history);
}

/**
 * One page of the key's history (the newest when `older` is null) into `section` (a section a newer
 * search replaced is no longer on the page: filling it shows nothing).
 */
async function showHistory(
  v: Verifier,
  key: string,
  older: OlderChanges | null,
  section: HTMLElement,
): Promise<void> {
  try {
    const h = await v.history(key, older);
    const rows = h.changes.map((c) => [
      `#${c.number}`,
      searchLink(String(c.height)),
      c.valueHash === null ? "(removed)" : showValue(c.value),
    ]);
    const first = h.changes[0]?.number;
    const which =
      older === null
        ? `${h.changes.length} newest changes`
        : `changes #${first} to #${h.changes.at(-1)?.number}`;
    section.replaceChildren(
      el("h3", {}, `history (${which}) `, verifiedMark(h.height)),
      table(["change", "height", "value"], rows),
    );
    const more = h.next;
    if (more === null) return;
    const button = el("button", { class: "older", type: "button" }, "older changes");
    button.addEventListener("click", () => {
      button.replaceWith("checking…");
      void showHistory(v, key, more, section);
    });
    section.append(button);
  } catch (e) {
    section.replaceChildren(failureMark(e));
  }
}

/**
 * The page of keys under `prefix` after `after` (null: the first page), numbered `page`; a next
 * page replaces the page `replacing` only while that one is still shown.
 */
export async function showList(
  v: Verifier,
  readers: Readers,
  prefix: string,
  after: string | null = null,
  page = 1,
  replacing: HTMLElement | null = null,
): Promise<void> {
  const r = await v.list(prefix, after);
  if (replacing !== null && !replacing.isConnected) return;
  const kinds = new Map(
    r.entries.map((e) => [e.key, el("span", { class: "kind" }, e.present ? "" : "(removed)")]),
  );
  const rows = r.entries.map((e) => [
    searchLink(e.key),
    kinds.get(e.key)!,
    String(e.changes),
    searchLink(String(e.height)),
  ]);
  const status = el("p", { class: "ops-status" }, "operations: checking the values…");
  const section = el(
    "section",
    { id: "listing", "data-page": String(page) },
    el("h2", {}, `keys under “${prefix}” (page ${page}${r.done ? ", last" : ""}) `, verifiedMark(r.height)),
    table(["key", "", "changes", "last change at"], rows),
    status,
  );
  if (r.next !== null) section.append(nextPageButton(v, readers, prefix, r.next, page + 1, section));
  fill("result", section);
  const present = r.entries.filter((e) => e.present).map((e) => e.key);
  const found = await operationKeys(v, readers, present);
  for (const k of found.operations) kinds.get(k)!.replaceChildren(el("span", { class: "op" }, "operation"));
  status.textContent =
    `operations: ${found.operations.size} among ${present.length - found.unchecked} values verified` +
    (found.unchecked > 0 ? ` (${found.unchecked} could not be checked: not marked)` : "");
}

/** Shows the page after `after` in place of `shown`, unless another search replaced it meanwhile. */
function nextPageButton(
  v: Verifier,
  readers: Readers,
  prefix: string,
  after: string,
  page: number,
  shown: HTMLElement,
): HTMLElement {
  const button = el("button", { class: "next-page", type: "button" }, "next page");
  button.addEventListener("click", () => {
    button.replaceWith("checking…");
    showList(v, readers, prefix, after, page, shown).catch((e) => {
      if (shown.isConnected) fill("result", failureMark(e));
    });
  });
  return button;
}
