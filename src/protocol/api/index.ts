// The whole API: every method a client can call, by module.
import { admin } from "./admin.js";
import { appinfo } from "./appinfo.js";
import { auth } from "./auth.js";
import { checklists } from "./checklists.js";
import { daemon } from "./daemon.js";
import { serviceDesk } from "./serviceDesk.js";

export const api = { admin, appinfo, auth, checklists, daemon, serviceDesk };

export type * from "./admin.js";
export type * from "./appinfo.js";
export type * from "./auth.js";
export type * from "./checklists.js";
export type * from "./daemon.js";
export type * from "./serviceDesk.js";
export type { ArgsOf, MethodKind, MethodRef, ResultOf, QueryRef, MutationRef, ActionRef, NoArgs } from "./define.js";
