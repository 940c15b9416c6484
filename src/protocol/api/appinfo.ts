// What a daemon is: versions, where it keeps state, how one can sign in.
import { defineModule, query, type NoArgs } from "./define.js";

export interface AppInfo {
  version: string;
  protocol: number;
  stateDir: string;
  pid: number;
  startedAt: number;
  /** Ways a client can prove who it is to this daemon. */
  signInMethods: string[];
}

export const appinfo = defineModule("appinfo", {
  get: query<NoArgs, AppInfo>(),
});
