// Start, stop or restart a worker from a key; stopping or restarting one that is answering asks first.
import type { WorkerView } from "../../protocol/api/index.js";
import { api } from "../../protocol/api/index.js";
import { isCommand } from "../keys/keymap.js";
import type { KeyEvent } from "../keys/parse.js";
import { useNavigation } from "../navigation.js";
import { useCall } from "./call.js";

export function useWorkerAction(): (worker: WorkerView, event: KeyEvent) => void {
  const nav = useNavigation();
  const call = useCall();
  return (worker, event) => {
    if (isCommand("startWorker", event)) {
      void call(api.workers.start, { worker: worker.id }, `starting ${worker.name}`);
      return;
    }
    const restart = isCommand("restartWorker", event);
    const run = () =>
      restart
        ? call(api.workers.restart, { worker: worker.id }, `restarting ${worker.name}`)
        : call(api.workers.stop, { worker: worker.id }, `stopped ${worker.name}`);
    if (worker.runState !== "active") void run();
    else
      nav.open({ kind: "confirm", title: `${worker.name} is answering a chat. ${restart ? "Restart" : "Stop"} it anyway? The reply is cut short.`, yes: run });
  };
}
