// The registry: every function the daemon serves, by wire name.
import type { FunctionDef } from "./define.js";
import * as admin from "./admin.js";
import * as appinfo from "./appinfo.js";
import * as attendance from "./attendance.js";
import * as auth from "./auth.js";
import * as budgets from "./budgets.js";
import * as chat from "./chat.js";
import * as checklists from "./checklists.js";
import * as daemon from "./daemon.js";
import * as discussions from "./discussions.js";
import * as hub from "./hub.js";
import * as machines from "./machines.js";
import * as membership from "./membership.js";
import * as notify from "./notify.js";
import * as presentations from "./presentations.js";
import * as schedules from "./schedules.js";
import * as search from "./search.js";
import * as serviceDesk from "./serviceDesk.js";
import * as usage from "./usage.js";
import * as workerModels from "./workerModels.js";
import * as workers from "./workers.js";
import * as worktrees from "./worktrees.js";

const modules: Record<string, Record<string, unknown>> = {
  admin,
  appinfo,
  attendance,
  auth,
  budgets,
  chat,
  checklists,
  daemon,
  discussions,
  hub,
  machines,
  membership,
  notify,
  presentations,
  schedules,
  search,
  serviceDesk,
  usage,
  workers,
  workerModels,
  worktrees,
};

function isFunctionDef(value: unknown): value is FunctionDef {
  return typeof value === "object" && value !== null && "kind" in value && "handler" in value && "access" in value && !("internal" in value);
}

/** Every exported public definition. Internal ones (marked `internal`, with no name or access level) never enter it. */
export function buildRegistry(): Map<string, FunctionDef> {
  const registry = new Map<string, FunctionDef>();
  for (const [module, exports] of Object.entries(modules)) {
    for (const [exportName, value] of Object.entries(exports)) {
      if (!isFunctionDef(value)) continue;
      if (value.name !== `${module}.${exportName}`) {
        throw new Error(`${module}.ts exports ${exportName} but it implements ${value.name}`);
      }
      registry.set(value.name, value);
    }
  }
  return registry;
}
