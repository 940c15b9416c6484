// Calling the daemon from a key: the one way the TUI runs a mutation or action and tells the user
// how it went (a passing notice on success, if given a label; the error's one line on failure).
import { useCallback } from "react";
import type { ArgsOf, MethodRef, ResultOf } from "../../protocol/api/index.js";
import { useNavigation } from "../navigation.js";
import { useClient } from "./client.js";

export type Call = <M extends MethodRef>(ref: M, args: ArgsOf<M>, done?: string | ((result: ResultOf<M>) => string | null)) => Promise<ResultOf<M> | undefined>;

/** Runs a call; resolves to its result, or to undefined once the error has been shown. */
export function useCall(): Call {
  const client = useClient();
  const { notify } = useNavigation();
  return useCallback<Call>(
    (ref, args, done) =>
      client.call(ref, args).then(
        (result) => {
          const label = typeof done === "function" ? done(result) : done;
          if (label) notify(label);
          return result;
        },
        (err: Error) => {
          notify(err.message, true);
          return undefined;
        },
      ),
    [client, notify],
  );
}
