// `ocfleet` with no arguments on a terminal: connect (starting the daemon, signing in as the
// machine's owner on first use), then run the Ink app until the user quits.
import { render } from "ink";
import React from "react";
import { FleetClient } from "../client/client.js";
import { connectToDaemon } from "../client/daemon.js";
import { resolveStateDir } from "../protocol/statefile.js";
import { App } from "./app.js";
import { ClientProvider } from "./hooks/client.js";
import { KeyProvider } from "./keys/dispatcher.js";

export async function runTui(): Promise<void> {
  const home = resolveStateDir();
  const notices: string[] = [];
  const connect = (autoStart: boolean) => connectToDaemon({ home, autoStart, clientName: "ocfleet-tui", onNotice: (message) => notices.push(message) });
  let connection;
  try {
    process.stderr.write("connecting to the ocfleet daemon…");
    connection = await connect(true);
  } finally {
    process.stderr.write("\r\x1b[2K");
  }
  if (notices.length > 0) process.stderr.write(`${notices.map((n) => `ocfleet: ${n}`).join("\n")}\n`);
  // Start on a clean page (Ink measures its output from where the cursor is), and ask the
  // terminal to bracket pastes, so a pasted newline is text rather than Enter.
  process.stdout.write("\x1b[2J\x1b[H\x1b[?2004h");
  const client = new FleetClient(connection, () => connect(false));
  const instance = render(
    <ClientProvider client={client}>
      <KeyProvider>
        <App home={home} hubLabel={`local ${home}`} />
      </KeyProvider>
    </ClientProvider>,
    {
      exitOnCtrlC: false,
      maxFps: 30,
      incrementalRendering: false,
      kittyKeyboard: { mode: "auto", flags: ["disambiguateEscapeCodes"] },
    },
  );
  try {
    await instance.waitUntilExit();
  } finally {
    client.close();
    // Leave the terminal as we found it: cursor shown, prompt on a fresh line.
    process.stdout.write("\x1b[?2004l\x1b[?25h\n");
  }
}
