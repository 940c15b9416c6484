// ocfleet checklist …: items under a key, shared live with everyone on the hub.
import type { Command } from "../commander.js";
import type { FleetConnection } from "../../client/connection.js";
import { api, type ChecklistView } from "../../protocol/api/index.js";
import type { ChecklistItemId } from "../../protocol/ids.js";
import { looksLikeId } from "../../protocol/ids.js";
import { CliError, formatAge, formatTable, print, printJson, printJsonLine, style } from "../output.js";
import { watchWithDaemon, withDaemon } from "../session.js";

type JsonOption = { json?: boolean };

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

  checklist
    .command("add <key> <text>")
    .description("add an item (creates the checklist on first use)")
    .option("--json", "print JSON")
    .action((key: string, text: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const item = await connection.call(api.checklists.addItem, { key, text });
        if (options.json) printJson(item);
        else print(`added item ${item.position} to ${key}: ${item.text}`);
      }),
    );

  checklist
    .command("list [key]")
    .description("show a checklist, or all checklists when no key is given")
    .option("--json", "print JSON")
    .action((key: string | undefined, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        if (key === undefined) {
          const all = await connection.call(api.checklists.list, {});
          if (options.json) return printJson(all);
          if (all.length === 0) return print(style.dim('no checklists yet; add one with: ocfleet checklist add <key> "text"'));
          return print(
            formatTable([
              ["KEY", "DONE", "STATE", "UPDATED"].map(style.dim),
              ...all.map((c) => [c.key, `${c.doneCount}/${c.itemCount}`, c.concluded ? "concluded" : "open", formatAge(c.updatedAt)]),
            ]),
          );
        }
        const view = await connection.call(api.checklists.get, { key });
        if (options.json) return printJson(view);
        if (!view) throw new CliError(`no checklist '${key}'; add an item to create it: ocfleet checklist add ${key} "text"`);
        print(renderChecklist(view));
      }),
    );

  const itemCommand = (name: string, description: string, run: (c: FleetConnection, key: string, id: ChecklistItemId) => Promise<unknown>) =>
    checklist
      .command(`${name} <key> <item>`)
      .description(description)
      .option("--json", "print JSON")
      .action((key: string, item: string, options: JsonOption) =>
        withDaemon(options, async (connection) => {
          const result = await run(connection, key, await resolveItem(connection, key, item));
          if (options.json) printJson(result);
          else print(await connection.call(api.checklists.get, { key }).then((view) => (view ? renderChecklist(view) : "")));
        }),
      );

  itemCommand("toggle", "tick or untick an item", (c, key, itemId) => c.call(api.checklists.toggleItem, { key, itemId }));
  itemCommand("remove", "delete an item", (c, key, itemId) => c.call(api.checklists.removeItem, { key, itemId }));

  checklist
    .command("edit <key> <item> <text>")
    .description("change an item's text")
    .option("--json", "print JSON")
    .action((key: string, item: string, text: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const itemId = await resolveItem(connection, key, item);
        const edited = await connection.call(api.checklists.editItem, { key, itemId, text });
        if (options.json) printJson(edited);
        else print(`item ${edited.position} of ${key}: ${edited.text}`);
      }),
    );

  checklist
    .command("move <key> <item> <position>")
    .description("move an item to a position (1 is the top)")
    .option("--json", "print JSON")
    .action((key: string, item: string, position: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const target = parsePosition(position);
        const itemId = await resolveItem(connection, key, item);
        const moved = await connection.call(api.checklists.moveItem, { key, itemId, position: target });
        if (options.json) return printJson(moved);
        const view = await connection.call(api.checklists.get, { key });
        if (view) print(renderChecklist(view));
      }),
    );

  checklist
    .command("clear-completed <key>")
    .description("delete every ticked item")
    .option("--json", "print JSON")
    .action((key: string, options: JsonOption) =>
      withDaemon(options, async (connection) => {
        const outcome = await connection.call(api.checklists.clearCompleted, { key });
        if (options.json) printJson(outcome);
        else print(`removed ${outcome.removed} completed item(s) from ${key}`);
      }),
    );

  for (const [name, description, ref] of [
    ["conclude", "lock the checklist (owner or admin)", api.checklists.conclude],
    ["reopen", "unlock a concluded checklist (owner or admin)", api.checklists.reopen],
  ] as const) {
    checklist
      .command(`${name} <key>`)
      .description(description)
      .option("--json", "print JSON")
      .action((key: string, options: JsonOption) =>
        withDaemon(options, async (connection) => {
          const view = await connection.call(ref, { key });
          if (options.json) printJson(view);
          else print(renderChecklist(view));
        }),
      );
  }

  checklist
    .command("watch <key>")
    .description("print the checklist again each time anyone changes it (Ctrl-C to stop)")
    .option("--json", "print one JSON line per change")
    .action((key: string, options: JsonOption) =>
      watchWithDaemon(options, (client, status) => {
        const redraw = process.stdout.isTTY && !options.json;
        client.subscribe(
          api.checklists.get,
          { key },
          {
            onValue: (view) => {
              if (options.json) return printJsonLine(view);
              const body = view ? renderChecklist(view) : style.dim(`checklist '${key}' has no items yet; waiting for changes…`);
              const footer = style.dim(`watching ${key} · updated ${new Date().toLocaleTimeString()} · Ctrl-C to stop`);
              if (redraw) process.stdout.write(`\x1b[H\x1b[2J${body}\n\n${footer}\n`);
              else print(`${body}\n`);
            },
            onError: (error) => status(`ocfleet: ${error.message}`),
          },
        );
      }),
    );
}
