// The whole API: every method a client can call, by module.
import { appinfo } from "./appinfo.js";
import { checklists } from "./checklists.js";
import { daemon } from "./daemon.js";

export const api = { appinfo, checklists, daemon };

export type * from "./appinfo.js";
export type * from "./checklists.js";
export type * from "./daemon.js";
export type { ArgsOf, MethodKind, MethodRef, ResultOf, QueryRef, MutationRef, ActionRef, NoArgs } from "./define.js";
