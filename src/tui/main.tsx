// `ocfleet` with no arguments on a terminal: connect (starting the daemon, signing in as the
// machine's owner on first use), then run the Ink app on the alternate screen until the user quits.
import { render } from "ink";
import { App } from "./app.js";
import type { TuiConnection } from "./connect.js";
import { ClientProvider } from "./hooks/client.js";
import { KeyProvider } from "./keys/dispatcher.js";
import { guardedStdout, takeTerminal } from "./terminal.js";

export async function runTui({ home, client }: TuiConnection): Promise<void> {
  const restore = takeTerminal(process.stdout, process.stdin);
  const instance = render(
    <ClientProvider client={client}>
      <KeyProvider>
        <App home={home} hubLabel={`local ${home}`} />
      </KeyProvider>
    </ClientProvider>,
    { stdout: guardedStdout(process.stdout), exitOnCtrlC: false, maxFps: 60, incrementalRendering: false },
  );
  // Every way out puts the terminal back: SIGTERM and SIGHUP end the app like q does; a crash
  // restores first and then reports.
  const onSignal = (signal: NodeJS.Signals) => {
    instance.unmount();
    restore();
    client.close();
    process.exit(signal === "SIGTERM" ? 143 : 129);
  };
  const onCrash = (err: unknown) => {
    restore();
    process.stderr.write(`ocfleet: the TUI failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  try {
    await instance.waitUntilExit();
  } finally {
    restore();
    client.close();
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
}
