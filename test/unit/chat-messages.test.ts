// chat.messages with `last`: the newest messages of a chat only, oldest first, with their own parts,
// in an in-process hub whose turns are written by the runtime's write path.
import { afterEach, beforeEach, expect, it } from "vitest";
import { api, type MessageView } from "../../src/protocol/api/index.js";
import { createTestHub, type TestHub } from "../helpers/hub.js";
import { aliceBobAndAdmin, type HubUser, writeTurn } from "../helpers/turns.js";

let hub: TestHub;
let alice: HubUser;
let bob: HubUser;
let chat: string;

beforeEach(async () => {
  hub = createTestHub(Date.parse("2026-03-01T12:00:00Z"));
  ({ alice, bob } = aliceBobAndAdmin(hub));
  hub.worker("api");
  chat = (await hub.call(alice, api.chat.create, { worker: "api", title: "long" })).id;
  for (let i = 1; i <= 5; i++) writeTurn(hub, chat, { prompt: `prompt ${i}`, parts: [{ id: "p1", kind: "text", text: `reply ${i}` }] });
});
afterEach(() => hub.close());

const texts = (messages: MessageView[]) => messages.map((m) => m.parts.map((p) => (p.kind === "text" ? p.text : "")).join(""));

it("gives the newest `last` messages, oldest first, each with its own parts", async () => {
  expect(texts(await hub.call(alice, api.chat.messages, { chat, last: 3 }))).toEqual(["reply 4", "prompt 5", "reply 5"]);
  expect(texts(await hub.call(alice, api.chat.messages, { chat, last: 1 }))).toEqual(["reply 5"]);
  expect(await hub.call(alice, api.chat.messages, { chat, last: 100 })).toEqual(await hub.call(alice, api.chat.messages, { chat }));
  expect(await hub.call(alice, api.chat.messages, { chat })).toHaveLength(10);
});

it("refuses a last below 1, and keeps the chat to its owner", async () => {
  await expect(hub.call(alice, api.chat.messages, { chat, last: 0 })).rejects.toThrow(/last: must be at least 1/);
  await expect(hub.call(bob, api.chat.messages, { chat, last: 2 })).rejects.toThrow(/no chat/);
});
