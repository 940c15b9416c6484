// The whole API: every method a client can call, by module.
import { admin } from "./admin.js";
import { appinfo } from "./appinfo.js";
import { attendance } from "./attendance.js";
import { auth } from "./auth.js";
import { budgets } from "./budgets.js";
import { chat } from "./chat.js";
import { checklists } from "./checklists.js";
import { daemon } from "./daemon.js";
import { discussions } from "./discussions.js";
import { hub } from "./hub.js";
import { machines } from "./machines.js";
import { membership } from "./membership.js";
import { notify } from "./notify.js";
import { presentations } from "./presentations.js";
import { schedules } from "./schedules.js";
import { search } from "./search.js";
import { serviceDesk } from "./serviceDesk.js";
import { usage } from "./usage.js";
import { workerModels } from "./workerModels.js";
import { workers } from "./workers.js";
import { worktrees } from "./worktrees.js";

export const api = {
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

export type * from "./admin.js";
export type * from "./appinfo.js";
export type * from "./attendance.js";
export type * from "./auth.js";
export type * from "./budgets.js";
export type * from "./chat.js";
export type * from "./checklists.js";
export type * from "./daemon.js";
export type * from "./discussions.js";
export type * from "./hub.js";
export type * from "./machines.js";
export type * from "./membership.js";
export type * from "./notify.js";
export type * from "./presentations.js";
export type * from "./schedules.js";
export type * from "./search.js";
export type * from "./serviceDesk.js";
export type * from "./usage.js";
export type * from "./workerModels.js";
export type * from "./workers.js";
export type * from "./worktrees.js";
export type { ArgsOf, MethodKind, MethodRef, ResultOf, QueryRef, MutationRef, ActionRef, NoArgs } from "./define.js";
