// The client the whole TUI shares, and live data from it: useQuery subscribes (calls: hooks/call.ts).
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import type { FleetClient, ConnectionState } from "../../client/client.js";
import type { ArgsOf, QueryRef, ResultOf } from "../../protocol/api/index.js";
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

/** The connection's state, for the status bar and the reconnect banner. */
export function useConnectionState(): ConnectionState {
  const client = useClient();
  const [state, setState] = useState(client.connectionState);
  useEffect(() => client.onStateChange(setState), [client]);
  return state;
}
