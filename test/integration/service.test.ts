import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serviceFile } from "../../src/cli/commands/service.js";
import { BIN, cleanupHomes, cliJson, createHome, runCli } from "../helpers/daemon.js";

afterAll(cleanupHomes);

describe("`ocfleet daemon install`", () => {
  it("describes a systemd user unit that runs this daemon for this state directory", async () => {
    const home = createHome();
    const printed = await cliJson(home, ["daemon", "install", "--print"]);
    expect(printed).toMatchObject({ kind: "systemd", name: expect.stringMatching(/^ocfleet-[0-9a-f]{8}\.service$/) });
    expect(printed.content).toContain(`ExecStart=${process.execPath} --max-semi-space-size=1 --v8-pool-size=1 ${BIN} daemon run --background`);
    expect(printed.content).toContain(`Environment=OCFLEET_HOME=${home}`);
    expect(printed.content).toContain("RestartPreventExitStatus=3 78");
  });

  it("describes a launchd agent on macOS", () => {
    const agent = serviceFile("/tmp/some home", "darwin");
    expect(agent.kind).toBe("launchd");
    expect(agent.content).toContain("<string>/tmp/some home</string>");
    expect(agent.content).toContain("<string>daemon</string>");
    expect(agent.enable[0]).toEqual(["launchctl", "load", "-w", agent.path]);
  });

  it("says plainly what to run when there is no systemd user session, and uninstall cleans up", async () => {
    const home = createHome();
    const config = mkdtempSync(join(tmpdir(), "ocf-xdg-"));
    try {
      const env = { XDG_CONFIG_HOME: config };
      const installed = await runCli(home, ["daemon", "install"], { env });
      const unit = join(config, "systemd", "user", serviceFile(home).name);
      if (installed.code === 0) {
        // A machine with a systemd user session: it really is installed.
        expect(existsSync(unit)).toBe(true);
      } else {
        expect(installed.stderr).toMatch(/could not turn it on: `systemctl --user daemon-reload` failed/);
        expect(installed.stderr).toContain("in your login session, or remove the file");
        expect(readFileSync(unit, "utf8")).toContain(`OCFLEET_HOME=${home}`);
      }
      await runCli(home, ["daemon", "uninstall"], { env });
      expect(existsSync(unit)).toBe(false);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  });
});
