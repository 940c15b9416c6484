// ocfleet checklist …: items under a key, shared live with everyone on the hub.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type ChecklistView } from "../../protocol/api/index.js";
import type { ChecklistItemId } from "../../protocol/ids.js";
import { looksLikeId } from "../../protocol/ids.js";
import { CliError, formatAge, formatTable, style } from "../output.js";
import { defineRead } from "../command.js";
import { defineWatch } from "../watch.js";

/** The daemon's names for what the user typed. */
const FIELDS = { itemId: "<item>" };

export function renderChecklist(view: ChecklistView, now = Date.now()): string {
  const done = view.items.filter((item) => item.done).length;
  const state = view.concluded ? style.yellow(`concluded by ${view.concludedBy ?? "?"} ${formatAge(view.concludedAt ?? now, now)}`) : "open";
  const lines = [`${style.bold(view.key)}  ${style.dim(`${done}/${view.items.length} done · ${state} · owner ${view.ownerName}`)}`];
  if (view.items.length === 0) lines.push(style.dim("  (no items)"));
  for (const item of view.items) {
    const box = item.done ? style.green("[x]") : "[ ]";
    const text = item.done ? style.dim(item.text) : item.text;
    const by = item.done && item.doneBy ? style.dim(`  ✓ ${item.doneBy}`) : "";
    lines.push(`${String(item.position).padStart(3)}. ${box} ${text}${by}`);
  }
  return lines.join("\n");
}

/** Resolves `<item>`: a 1-based position as shown by `list`, or an item id (cki_…). */
async function resolveItem(connection: FleetConnection, key: string, item: string): Promise<ChecklistItemId> {
  if (looksLikeId("checklistItem", item)) return item as ChecklistItemId;
  if (!/^\d+$/.test(item)) throw new CliError(`<item> must be a position (1, 2, …) or an item id (cki_…), not '${item}'`, 2);
  const view = await connection.call(api.checklists.get, { key });
  if (!view) throw new CliError(`no checklist '${key}'`);
  const found = view.items[Number(item) - 1];
  if (!found) throw new CliError(`checklist '${key}' has ${view.items.length} item(s); there is no item ${item}`);
  return found.id;
}

function parsePosition(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CliError(`<position> must be 1 or more, not '${value}'`, 2);
  return Number(value);
}

export function registerChecklistCommands(program: Command): void {
  const checklist = program.command("checklist").description("shared checklists: items under a key, live for everyone");

  defineRead(checklist.command("add <key> <text>").description("add an item (creates the checklist on first use)"), {
    run: (c, [key, text]) => c.call(api.checklists.addItem, { key: key!, text: text! }),
    human: (item, [key]) => `added item ${item.position} to ${key}: ${item.text}`,
  });

  defineRead(checklist.command("list [key]").description("show a checklist, or all checklists when no key is given"), {
    run: async (c, [key]) => (key === undefined ? { all: await c.call(api.checklists.list, {}) } : { view: await c.call(api.checklists.get, { key }) }),
    json: (result) => ("all" in result ? result.all : result.view),
    human: (result, [key]) => {
      if ("view" in result) {
        if (!result.view) throw new CliError(`no checklist '${key}'; add an item to create it: ocfleet checklist add ${key} "text"`);
        return renderChecklist(result.view);
      }
      if (result.all.length === 0) return style.dim('no checklists yet; add one with: ocfleet checklist add <key> "text"');
      return formatTable([
        ["KEY", "DONE", "STATE", "UPDATED"].map(style.dim),
        ...result.all.map((c) => [c.key, `${c.doneCount}/${c.itemCount}`, c.concluded ? "concluded" : "open", formatAge(c.updatedAt)]),
      ]);
    },
  });

  /** A change to one item; --json prints the change, people see the whole checklist after it. */
  const itemCommand = (
    usage: string,
    description: string,
    change: (c: FleetConnection, key: string, id: ChecklistItemId, rest: string[]) => Promise<unknown>,
  ) =>
    defineRead(checklist.command(usage).description(description), {
      fields: FIELDS,
      run: async (c, [key, item, ...rest]) => {
        const result = await change(c, key!, await resolveItem(c, key!, item!), rest);
        return { result, view: await c.call(api.checklists.get, { key: key! }) };
      },
      json: ({ result }) => result,
      human: ({ view }) => (view ? renderChecklist(view) : ""),
    });

  itemCommand("toggle <key> <item>", "tick or untick an item", (c, key, itemId) => c.call(api.checklists.toggleItem, { key, itemId }));
  itemCommand("remove <key> <item>", "delete an item", (c, key, itemId) => c.call(api.checklists.removeItem, { key, itemId }));
  itemCommand("move <key> <item> <position>", "move an item to a position (1 is the top)", (c, key, itemId, [position]) =>
    c.call(api.checklists.moveItem, { key, itemId, position: parsePosition(position!) }),
  );

  defineRead(checklist.command("edit <key> <item> <text>").description("change an item's text"), {
    fields: FIELDS,
    run: async (c, [key, item, text]) => c.call(api.checklists.editItem, { key: key!, itemId: await resolveItem(c, key!, item!), text: text! }),
    human: (edited, [key]) => `item ${edited.position} of ${key}: ${edited.text}`,
  });

  defineRead(checklist.command("clear-completed <key>").description("delete every ticked item"), {
    run: (c, [key]) => c.call(api.checklists.clearCompleted, { key: key! }),
    human: (outcome, [key]) => `removed ${outcome.removed} completed item(s) from ${key}`,
  });

  for (const [usage, description, lock] of [
    ["conclude <key>", "lock the checklist (owner or admin)", api.checklists.conclude],
    ["reopen <key>", "unlock a concluded checklist (owner or admin)", api.checklists.reopen],
  ] as const) {
    defineRead(checklist.command(usage).description(description), { run: (c, [key]) => c.call(lock, { key: key! }), human: (view) => renderChecklist(view) });
  }

  defineWatch(checklist.command("watch <key>").description("print the checklist again each time anyone changes it (Ctrl-C to stop)"), ([key]) => ({
    query: api.checklists.get,
    args: { key: key! },
    label: key!,
    render: (view) => (view ? renderChecklist(view) : style.dim(`checklist '${key}' has no items yet; waiting for changes…`)),
  }));
}
