// Google sign-in in a real headless Chromium: `ocfleet login --google` opens the browser its own way
// (the `open` package → xdg-open → $BROWSER, as in a terminal without a desktop session), Chromium
// follows the fake issuer's redirect to the CLI's loopback listener, and the test reads the page
// Chromium rendered. test/integration/auth-google.test.ts covers every check with an HTTP client.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeOidc } from "../fixtures/fake-oidc.js";
import { findChromium, HeadlessChromium } from "../helpers/chromium.js";
import { cleanupHomes, cliJson, createHome, runCli, startCli } from "../helpers/daemon.js";

const chromium = findChromium();
// Outside CI a developer without Chromium may skip this; CI must run it (.ci/run installs Chromium).
const skipping = !chromium && !process.env.CI;
const SKIP_NOTE = "no Chromium on PATH: install Debian's chromium (apt-get install chromium) to run this; CI always does";

let home: string;
let fake: FakeOidc;
const browsers: HeadlessChromium[] = [];

beforeAll(async () => {
  if (skipping) return console.warn(`Skipping the real-browser sign-in tests: ${SKIP_NOTE}`);
  home = createHome();
  fake = await FakeOidc.start();
  const set = await runCli(home, ["admin", "google", "set", "--client-id", fake.clientId, "--client-secret", "-", "--issuer", fake.issuer], {
    stdin: `${fake.clientSecret}\n`,
  });
  expect(set.code, set.stderr).toBe(0);
});
beforeEach((context) => context.skip(skipping, SKIP_NOTE));
afterEach(async () => {
  for (const browser of browsers.splice(0)) await browser.close();
});
afterAll(async () => {
  await cleanupHomes();
  await fake?.close();
});

function newBrowser(): HeadlessChromium {
  if (!chromium) throw new Error("CI is set but there is no Chromium on PATH; .ci/run installs it with apt-get install chromium");
  const browser = new HeadlessChromium(chromium);
  browsers.push(browser);
  return browser;
}

/**
 * A terminal with no desktop session, whose BROWSER is the test's Chromium: xdg-open then runs
 * $BROWSER with the URL. OCFLEET_BROWSER=none (the tests' default) would only print the URL.
 */
function terminalWith(browser: HeadlessChromium): NodeJS.ProcessEnv {
  // What xdg-open looks at to find a desktop (a session bus with GNOME's session manager counts).
  const noDesktop = [
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_CURRENT_DESKTOP",
    "DESKTOP_SESSION",
    "KDE_FULL_SESSION",
    "GNOME_DESKTOP_SESSION_ID",
    "MATE_DESKTOP_SESSION_ID",
    "DBUS_SESSION_BUS_ADDRESS",
  ];
  return { ...Object.fromEntries(noDesktop.map((name) => [name, ""])), OCFLEET_BROWSER: "", BROWSER: browser.command };
}

/** `ocfleet login --google`, the browser the CLI opened, and the page that browser shows at the end. */
async function loginInBrowser() {
  const browser = newBrowser();
  const cli = startCli(home, ["login", "--google"], { env: terminalWith(browser) });
  await Promise.race([
    browser.attach(),
    cli.done.then((result) => {
      throw new Error(`ocfleet login --google ended before a browser started (exit ${result.code}): ${result.stderr}`);
    }),
  ]);
  const page = await browser.renderedText("/callback");
  return { page, ...(await cli.done) };
}

const whoami = () => cliJson(home, ["whoami"]);

describe("Google sign-in in a real browser", () => {
  it("the CLI opens Chromium, which follows the issuer's redirect to the CLI and shows that the sign-in worked", async () => {
    const before = await whoami();
    expect(before.user).toMatchObject({ isOwner: true, anonymous: true });

    const login = await loginInBrowser();
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("upgraded your anonymous account, now Ada Lovelace");
    expect(login.stderr).not.toContain("Could not open a browser");
    expect(login.page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    expect(login.page.title).toBe("ocfleet: Signed in");
    expect(login.page.text).toContain("You are signed in to ocfleet as Ada Lovelace. You can close this tab.");

    const after = await whoami();
    expect(after.user).toMatchObject({ id: before.user.id, name: "Ada Lovelace", anonymous: false });
    expect(after.session.kind).toBe("google");
    expect(after.identities).toEqual([expect.objectContaining({ provider: "google", email: "ada@example.com" })]);
  });

  it("a browser that comes back with a wrong state is shown the refusal, and the CLI signs nothing in", async () => {
    const before = await whoami();
    fake.forgedState = "attacker-chosen-state";

    const login = await loginInBrowser();
    expect(login.code).toBe(1);
    expect(login.stdout).toBe("");
    expect(login.stderr.trimEnd().split("\n").at(-1)).toMatch(/^ocfleet: the browser came back with a state that does not belong to this sign-in/);
    expect(login.page.url).toContain("state=attacker-chosen-state");
    expect(login.page.title).toBe("ocfleet: Sign-in refused");
    expect(login.page.text).toContain("This answer does not belong to the sign-in ocfleet started. Nothing was signed in.");

    const after = await whoami();
    expect(after.session.id).toBe(before.session.id);
    expect(after.identities).toEqual(before.identities);
  });
});
