// Friendly generated names for anonymous accounts, like "brave-otter-42".
import { randomInt } from "node:crypto";
import type { Db } from "../db/open.js";

const ADJECTIVES = [
  "amber",
  "brave",
  "bright",
  "calm",
  "clever",
  "cosmic",
  "daring",
  "eager",
  "fuzzy",
  "gentle",
  "happy",
  "jolly",
  "keen",
  "lucky",
  "mellow",
  "nimble",
  "plucky",
  "quick",
  "quiet",
  "rapid",
  "sunny",
  "swift",
  "tidy",
  "vivid",
  "witty",
  "zesty",
  "bold",
  "cheery",
  "dapper",
  "frosty",
];
const ANIMALS = [
  "badger",
  "beaver",
  "bison",
  "crane",
  "dingo",
  "eagle",
  "falcon",
  "ferret",
  "gecko",
  "heron",
  "ibis",
  "koala",
  "lemur",
  "lynx",
  "marten",
  "moose",
  "newt",
  "ocelot",
  "otter",
  "owl",
  "panda",
  "puffin",
  "quail",
  "raven",
  "seal",
  "tapir",
  "walrus",
  "wombat",
  "yak",
  "zebra",
];

const pick = (words: readonly string[]) => words[randomInt(words.length)]!;

/** A name no user has yet (after a few tries it takes a longer number instead). */
export function generateFriendlyName(db: Db): string {
  const taken = db.prepare("SELECT 1 FROM users WHERE name = ? COLLATE NOCASE");
  for (let attempt = 0; ; attempt++) {
    const digits = attempt < 10 ? randomInt(10, 100) : randomInt(1000, 10_000);
    const name = `${pick(ADJECTIVES)}-${pick(ANIMALS)}-${digits}`;
    if (!taken.get(name)) return name;
  }
}
