import { afterAll, describe, expect, it } from "vitest";
import type { FleetConnection } from "../../src/client/connection.js";
import { api } from "../../src/protocol/api/index.js";
import { cleanupHomes, connect, createHome, daemonState, killDaemon } from "../helpers/daemon.js";

afterAll(cleanupHomes);

describe("a daemon killed with SIGKILL", () => {
  it("loses no acknowledged write, and the next command brings it back with the data", async () => {
    const home = createHome();
    const writers: FleetConnection[] = [await connect(home), await connect(home)];
    const acknowledged = new Set<string>();
    let stop = false;
    const write = async (writer: FleetConnection, name: string) => {
      for (let i = 0; !stop; i++) {
        try {
          await writer.call(api.checklists.addItem, { key: "crash", text: `${name}-${i}` });
          acknowledged.add(`${name}-${i}`);
        } catch {
          return; // the daemon died under us
        }
      }
    };
    const loops = writers.map((w, i) => write(w, `w${i}`));
    while (acknowledged.size < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    const pid = await killDaemon(home, "SIGKILL");
    stop = true;
    await Promise.all(loops);
    expect(pid).not.toBeNull();

    const after = await connect(home);
    expect(daemonState(home)!.pid).not.toBe(pid);
    const view = await after.call(api.checklists.get, { key: "crash" });
    const stored = new Set(view!.items.map((item) => item.text));
    for (const text of acknowledged) expect(stored.has(text), text).toBe(true);
    // Positions stayed consistent through the crash.
    expect(view!.items.map((item) => item.position)).toEqual(view!.items.map((_, i) => i + 1));
    after.close();
  });
});
