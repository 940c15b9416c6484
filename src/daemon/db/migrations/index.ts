// Every migration, in order. Add a file NNNN-name.ts and append it here; never edit a released one.
import type { Migration } from "../migrate.js";
import { initial } from "./0001-initial.js";
import { fleet } from "./0002-fleet.js";
import { chat } from "./0003-chat.js";
import { auth } from "./0004-auth.js";
import { modules } from "./0005-modules.js";
import { workerAccess } from "./0006-worker-access.js";
import { disabledUsers } from "./0007-disabled-users.js";
import { hub } from "./0008-hub.js";
import { worktrees } from "./0009-worktrees.js";
import { search } from "./0010-search.js";
import { usageBudgetsNotify } from "./0011-usage-budgets-notify.js";
import { workerIsolation } from "./0012-worker-isolation.js";
import { removedMachine } from "./0013-removed-machine.js";

export const migrations: readonly Migration[] = [
  initial,
  fleet,
  chat,
  auth,
  modules,
  workerAccess,
  disabledUsers,
  hub,
  worktrees,
  search,
  usageBudgetsNotify,
  workerIsolation,
  removedMachine,
];
