// The client library: what the CLI, the TUI and tests use to talk to a daemon.
export { FleetConnection, type ConnectOptions, type Subscription, type SubscriptionHandlers } from "./connection.js";
export { FleetClient, type ConnectionState, type ConnectionStatus } from "./client.js";
export {
  connectToDaemon,
  connectToRunningDaemon,
  isOcfleetDaemon,
  stopDaemon,
  tailDaemonLog,
  type DaemonConnectOptions,
  type StopOutcome,
} from "./daemon.js";
export { api } from "../protocol/api/index.js";
export { FleetError } from "../protocol/errors.js";
