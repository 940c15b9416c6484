// Waiting on a live query: subscribe, and resolve with the first value a check accepts. Tests
// wait on what the daemon pushes, never on time; the timeout only turns a hang into a message.
import type { FleetConnection } from "../../src/client/connection.js";
import type { ArgsOf, QueryRef, ResultOf } from "../../src/protocol/api/index.js";

/**
 * The first value of the live query that `accept` takes (the subscription then ends). Fails after
 * `timeoutMs` naming the query and the last value it had.
 */
export function untilLive<Q extends QueryRef>(
  client: FleetConnection,
  ref: Q,
  args: ArgsOf<Q>,
  accept: (value: ResultOf<Q>) => boolean,
  timeoutMs = 45_000,
): Promise<ResultOf<Q>> {
  return new Promise((resolve, reject) => {
    let last: ResultOf<Q> | undefined;
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`${ref.name} ${JSON.stringify(args)} never got there in ${timeoutMs} ms; last value: ${JSON.stringify(last)}`));
    }, timeoutMs);
    const sub = client.subscribe(ref, args, {
      onValue: (value) => {
        last = value;
        if (!accept(value)) return;
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(value);
      },
    });
  });
}
