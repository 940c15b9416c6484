// Every migration, in order. Add a file NNNN-name.ts and append it here; never edit a released one.
import type { Migration } from "../migrate.js";
import { initial } from "./0001-initial.js";
import { fleet } from "./0002-fleet.js";
import { chat } from "./0003-chat.js";
import { auth } from "./0004-auth.js";
import { modules } from "./0005-modules.js";
import { reserved6 } from "./0006-reserved.js";
import { reserved7 } from "./0007-reserved.js";
import { hub } from "./0008-hub.js";

export const migrations: readonly Migration[] = [initial, fleet, chat, auth, modules, reserved6, reserved7, hub];
