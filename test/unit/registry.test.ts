import { describe, expect, it } from "vitest";
import { buildRegistry } from "../../src/daemon/functions/index.js";
import { api } from "../../src/protocol/api/index.js";

describe("the function registry", () => {
  const registry = buildRegistry();
  const contract = Object.values(api).flatMap((module) => Object.values(module));

  it("implements every method of the protocol with the declared kind", () => {
    for (const ref of contract) {
      const def = registry.get(ref.name);
      expect(def, ref.name).toBeDefined();
      expect(def!.kind, ref.name).toBe(ref.kind);
    }
  });

  it("serves nothing that the protocol does not declare", () => {
    expect([...registry.keys()].sort()).toEqual(contract.map((ref) => ref.name).sort());
  });

  it("gives every function an access level and an argument schema", () => {
    for (const def of registry.values()) {
      expect(["public", "user", "admin", "machine"], def.name).toContain(def.access);
      expect(typeof def.args.safeParse, def.name).toBe("function");
    }
  });
});
