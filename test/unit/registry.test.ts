import { describe, expect, it } from "vitest";
import { authorize } from "../../src/daemon/dispatch.js";
import { ACCESS_LEVELS, type Access, type Caller } from "../../src/daemon/functions/define.js";
import { buildRegistry } from "../../src/daemon/functions/index.js";
import { recordRuntime } from "../../src/daemon/model/workers.js";
import { api } from "../../src/protocol/api/index.js";
import type { SessionId, UserId } from "../../src/protocol/ids.js";

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
      expect(ACCESS_LEVELS, def.name).toContain(def.access);
      expect(typeof def.args.safeParse, def.name).toBe("function");
    }
  });

  it("never holds an internal function, and internal functions borrow no access level (machine is for linked machines)", () => {
    for (const def of registry.values()) expect("internal" in def, def.name).toBe(false);
    expect(recordRuntime.internal).toBe(true);
    expect("access" in recordRuntime).toBe(false);
    expect([...registry.values()].filter((def) => def.access === "machine")).toEqual([]);
  });

  it("keeps the admin and service-desk modules for admins only", () => {
    const adminOnly = [...registry.values()].filter((def) => def.name.startsWith("admin.") || def.name.startsWith("serviceDesk."));
    expect(adminOnly.length).toBeGreaterThanOrEqual(10);
    for (const def of adminOnly) expect(def.access, def.name).toBe("admin");
  });
});

describe("access levels, enforced in dispatch", () => {
  const caller = (over: Partial<Caller>): Caller => ({
    connectionId: 1,
    local: false,
    source: "127.0.0.1",
    user: null,
    session: null,
    identity: "anonymous",
    dependencies: [],
    connection: { id: 1, clientName: "test", bindSession: () => {} },
    ...over,
  });
  const user = { id: "usr_0000000000000000" as UserId, name: "u", level: "user" as const };
  const admin = { ...user, level: "system_admin" as const };
  const session = { id: "ses_0000000000000000" as SessionId, expiresAt: Date.now() + 1000 };
  const callers: Record<string, Caller> = {
    stranger: caller({}),
    local: caller({ local: true, identity: "local" }),
    revoked: caller({ local: true, sessionProblem: "revoked", identity: "session:x" }),
    user: caller({ local: true, user, session, identity: "session:x" }),
    admin: caller({ local: true, user: admin, session, identity: "session:y" }),
  };
  const allowed: Record<Access, string[]> = {
    public: ["stranger", "local", "revoked", "user", "admin"],
    local: ["local", "revoked", "user", "admin"],
    user: ["user", "admin"],
    admin: ["admin"],
    machine: [],
  };

  for (const access of ACCESS_LEVELS) {
    it(`lets exactly ${allowed[access].join(", ") || "no local caller"} through '${access}'`, () => {
      for (const [who, c] of Object.entries(callers)) {
        const attempt = () => authorize({ name: "m.f", access }, c);
        if (allowed[access].includes(who)) expect(attempt, `${access} / ${who}`).not.toThrow();
        else expect(attempt, `${access} / ${who}`).toThrow();
      }
    });
  }

  it("tells a caller whose session was revoked why, and what to do", () => {
    expect(() => authorize({ name: "checklists.get", access: "user" }, callers.revoked!)).toThrow(
      "checklists.get needs a signed-in user: your session was revoked; sign in with: ocfleet login",
    );
    expect(() => authorize({ name: "admin.users", access: "admin" }, callers.user!)).toThrow(/admin\.users is for admins only/);
  });
});
