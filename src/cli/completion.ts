// Shell completion: `ocfleet completion bash|zsh|fish` prints a script that calls the hidden
// `ocfleet __complete <words…>`, which walks the command tree for commands and flags and asks the
// daemon for live names (workers, chats, checklists, schedules).
import type { Command } from "./commander.js";
import { api } from "../protocol/api/index.js";
import { runAction } from "./command.js";
import { CliError } from "./output.js";
import { openDaemonConnection } from "./session.js";
import { sanitizeInline } from "../terminal/sanitize.js";

const SCRIPTS = {
  bash: `# ocfleet completion for bash: source <(ocfleet completion bash)
_ocfleet_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(ocfleet __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _ocfleet_complete ocfleet
`,
  zsh: `#compdef ocfleet
# ocfleet completion for zsh: source <(ocfleet completion zsh)
_ocfleet() {
  local -a candidates
  candidates=("\${(@f)$(ocfleet __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _ocfleet ocfleet
`,
  fish: `# ocfleet completion for fish: ocfleet completion fish | source
function __ocfleet_complete
  set -l tokens (commandline -opc) (commandline -ct)
  ocfleet __complete -- $tokens[2..-1] 2>/dev/null
end
complete -c ocfleet -f -a '(__ocfleet_complete)'
`,
} as const;

/** Which live names a positional argument or an option's value takes, by its name. */
type NameKind = "worker" | "chat" | "checklist" | "schedule";
const NAMES_OF: Record<string, NameKind> = { worker: "worker", chat: "chat", key: "checklist", checklist: "checklist", schedule: "schedule" };

type Wanted = { kind: "words"; words: string[] } | { kind: "names"; of: NameKind } | { kind: "nothing" };

const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;

/** What the last word of `words` (the one being typed, maybe empty) may be, after the ones before it. */
export function wantedAt(program: Command, words: string[]): Wanted {
  let command = program;
  let positional = 0;
  let optionNeedingValue: string | null = null;
  for (const word of words.slice(0, -1)) {
    if (optionNeedingValue !== null) {
      optionNeedingValue = null;
      continue;
    }
    if (word.startsWith("-")) {
      const option = [...command.options, ...program.options].find((o) => o.long === word.split("=")[0] || o.short === word);
      if (option && (option.required || option.optional) && !word.includes("=")) optionNeedingValue = option.long ?? null;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positional === 0) command = sub;
    else positional++;
  }
  const current = words[words.length - 1] ?? "";
  if (optionNeedingValue !== null) {
    const of = NAMES_OF[optionNeedingValue.replace(/^--/, "")];
    return of ? { kind: "names", of } : { kind: "nothing" };
  }
  if (current.startsWith("-")) {
    const options = [...command.options, ...(command === program ? [] : program.options)];
    return { kind: "words", words: [...new Set(options.map((o) => o.long).filter((l): l is string => Boolean(l)))] };
  }
  const subs = command.commands.filter(visible);
  if (subs.length > 0 && positional === 0) return { kind: "words", words: subs.map((c) => c.name()) };
  const argument = command.registeredArguments[Math.min(positional, command.registeredArguments.length - 1)];
  const of = argument ? NAMES_OF[argument.name()] : undefined;
  return of ? { kind: "names", of } : { kind: "nothing" };
}

async function liveNames(of: NameKind): Promise<string[]> {
  const connection = await openDaemonConnection({ json: true });
  try {
    switch (of) {
      case "worker":
        return (await connection.call(api.workers.list, {})).map((w) => w.name);
      case "chat":
        return (await connection.call(api.chat.list, {})).map((c) => c.id);
      case "checklist":
        return (await connection.call(api.checklists.list, {})).map((c) => c.key);
      case "schedule":
        return (await connection.call(api.schedules.list, {})).map((s) => s.name);
    }
  } finally {
    connection.close();
  }
}

export function registerCompletionCommands(program: Command): void {
  program
    .command("completion <shell>")
    .description("print a completion script: bash (source <(ocfleet completion bash)), zsh, or fish (ocfleet completion fish | source)")
    .action((shell: string, _options: unknown, command: Command) =>
      runAction(command, command.optsWithGlobals(), undefined, async () => {
        if (!(shell in SCRIPTS)) throw new CliError(`<shell>: bash, zsh or fish, not '${shell}'`, 2);
        process.stdout.write(SCRIPTS[shell as keyof typeof SCRIPTS]);
      }),
    );

  program
    .command("__complete [words...]", { hidden: true })
    .description("completion candidates for a command line (used by the completion scripts)")
    .allowUnknownOption(true)
    .helpOption(false)
    .action(async (words: string[] = []) => {
      const typed = words.length === 0 ? [""] : words;
      const current = typed[typed.length - 1]!;
      const wanted = wantedAt(program, typed);
      let candidates: string[] = [];
      try {
        if (wanted.kind === "words") candidates = wanted.words;
        else if (wanted.kind === "names") candidates = await liveNames(wanted.of);
      } catch {
        // No daemon, not signed in: no live names, and no noise in the middle of a command line.
      }
      // Names from the daemon are other people's text: one plain line each, nothing a terminal would act on.
      for (const candidate of candidates) if (candidate.startsWith(current)) process.stdout.write(`${sanitizeInline(candidate)}\n`);
    });
}
