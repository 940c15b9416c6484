// The client the whole TUI shares, and live data from it: useQuery subscribes, useMutation calls.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import type { FleetClient, ConnectionState } from "../../client/client.js";
import type { ArgsOf, MethodRef, QueryRef, ResultOf } from "../../protocol/api/index.js";
import type { FleetError } from "../../protocol/errors.js";

const ClientContext = createContext<FleetClient | null>(null);

export function ClientProvider({ client, children }: { client: FleetClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): FleetClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient needs a ClientProvider above it");
  return client;
}

export interface QueryState<T> {
  data: T | undefined;
  error: FleetError | undefined;
  loading: boolean;
}

/**
 * A live query: the current value, then every change. `args` of null skips the query. The
 * subscription survives reconnects (FleetClient re-subscribes and delivers the current value).
 */
export function useQuery<Q extends QueryRef>(ref: Q, args: ArgsOf<Q> | null): QueryState<ResultOf<Q>> {
  const client = useClient();
  const [state, setState] = useState<QueryState<ResultOf<Q>>>(() => {
    const cached = args === null ? undefined : client.peek(ref, args);
    return { data: cached, error: undefined, loading: args !== null && cached === undefined };
  });
  const key = args === null ? null : JSON.stringify(args);
  useEffect(() => {
    if (key === null) {
      setState({ data: undefined, error: undefined, loading: false });
      return;
    }
    setState((previous) => ({ ...previous, loading: previous.data === undefined }));
    const sub = client.subscribe(ref, JSON.parse(key) as ArgsOf<Q>, {
      onValue: (data) => setState({ data, error: undefined, loading: false }),
      onError: (error) => setState((previous) => ({ data: previous.data, error, loading: false })),
    });
    return () => sub.unsubscribe();
  }, [client, ref, key]);
  return state;
}

export interface MutationState {
  pending: boolean;
  error: FleetError | undefined;
}

/** A call (mutation or action) with its pending and error state. The promise still rejects. */
export function useMutation<M extends MethodRef>(ref: M): [(args: ArgsOf<M>) => Promise<ResultOf<M>>, MutationState] {
  const client = useClient();
  const [state, setState] = useState<MutationState>({ pending: false, error: undefined });
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback(
    async (args: ArgsOf<M>) => {
      setState({ pending: true, error: undefined });
      try {
        const result = await client.call(ref, args);
        if (mounted.current) setState({ pending: false, error: undefined });
        return result;
      } catch (err) {
        if (mounted.current) setState({ pending: false, error: err as FleetError });
        throw err;
      }
    },
    [client, ref],
  );
  return [run, state];
}

/** The connection's state, for the status bar and the reconnect banner. */
export function useConnectionState(): ConnectionState {
  const client = useClient();
  const [state, setState] = useState(client.connectionState);
  useEffect(() => client.onStateChange(setState), [client]);
  return state;
}
