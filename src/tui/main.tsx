// `ocfleet` with no arguments on a terminal: connect (starting the daemon, signing in as the
// machine's owner on first use), then run the Ink app until the user quits.
import { render } from "ink";
import type { TuiConnection } from "./connect.js";
import { App } from "./app.js";
import { ClientProvider } from "./hooks/client.js";
import { KeyProvider } from "./keys/dispatcher.js";

export async function runTui({ home, client }: TuiConnection): Promise<void> {
  // Start on a clean page (Ink measures its output from where the cursor is), and ask the
  // terminal to bracket pastes, so a pasted newline is text rather than Enter.
  process.stdout.write("\x1b[2J\x1b[H\x1b[?2004h");
  const instance = render(
    <ClientProvider client={client}>
      <KeyProvider>
        <App home={home} hubLabel={`local ${home}`} />
      </KeyProvider>
    </ClientProvider>,
    {
      exitOnCtrlC: false,
      maxFps: 60,
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
