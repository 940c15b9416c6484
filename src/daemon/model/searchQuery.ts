// What a person types into a search, as an FTS5 query. Words are found as words (quoted, so FTS5
// never reads `foo.bar`, `c++` or `AND` as syntax); "a phrase" stays a phrase; `migrat*` is a
// prefix; a leading `-word` excludes (FTS5's NOT); OR between words is kept. Anything that cannot
// become a query is an invalid_argument naming `query`, never an SQL error.
import { FleetError } from "../../protocol/errors.js";

type Term = { kind: "term"; fts: string; negated: boolean; text: string; prefix: boolean } | { kind: "or" };

function invalid(reason: string): FleetError {
  return new FleetError("invalid_argument", `query: ${reason}`, { field: "query" });
}

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

function readTerms(input: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  while (i < input.length) {
    if (/\s/.test(input[i]!)) {
      i++;
      continue;
    }
    let negated = false;
    if (input[i] === "-" && i + 1 < input.length && !/\s/.test(input[i + 1]!)) {
      negated = true;
      i++;
    }
    if (input[i] === '"') {
      const end = input.indexOf('"', i + 1);
      if (end < 0) throw invalid('a phrase is missing its closing quote (")');
      const phrase = input.slice(i + 1, end);
      i = end + 1;
      let prefix = false;
      while (input[i] === "*") {
        prefix = true;
        i++;
      }
      if (phrase.trim()) terms.push({ kind: "term", fts: quoted(phrase) + (prefix ? "*" : ""), negated, text: phrase, prefix });
      continue;
    }
    let end = i;
    while (end < input.length && !/\s/.test(input[end]!)) end++;
    const word = input.slice(i, end);
    i = end;
    if (word === "OR" && !negated) {
      terms.push({ kind: "or" });
      continue;
    }
    const stem = word.replace(/\*+$/, "");
    if (!stem) throw invalid(`'${word}' has nothing before the * (write a prefix such as migrat*)`);
    terms.push({ kind: "term", fts: quoted(stem) + (stem.length < word.length ? "*" : ""), negated, text: stem, prefix: stem.length < word.length });
  }
  return terms;
}

/** The FTS5 query for what the user typed. */
export function toFtsQuery(input: string): string {
  const terms = readTerms(input);
  const wanted: string[] = [];
  const excluded: string[] = [];
  let pendingOr = false;
  for (const term of terms) {
    if (term.kind === "or") {
      if (wanted.length === 0 || pendingOr) throw invalid("OR needs a word on each side");
      pendingOr = true;
    } else if (term.negated) {
      excluded.push(term.fts);
    } else {
      wanted.push(pendingOr ? `OR ${term.fts}` : term.fts);
      pendingOr = false;
    }
  }
  if (pendingOr) throw invalid("OR needs a word on each side");
  if (wanted.length === 0) throw invalid(excluded.length ? "needs a word to find; a -word only leaves out what matches it" : "must have a word to find");
  const positive = wanted.join(" ");
  return excluded.length ? `(${positive})${excluded.map((e) => ` NOT ${e}`).join("")}` : positive;
}

/** The words a query asks for (not those it excludes), as typed, each with whether it is a prefix. */
export function wantedWords(input: string): Array<{ text: string; prefix: boolean }> {
  return readTerms(input).flatMap((term) => (term.kind === "term" && !term.negated ? [{ text: term.text, prefix: term.prefix }] : []));
}
