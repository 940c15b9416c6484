// The dialogs of the TUI, by kind: add a worker, search chats, go to a screen, sign in, pick a
// model, add a checklist item, and messages.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitize, sanitizeInline } from "../../terminal/sanitize.js";
import { useState } from "react";
import { resolve } from "node:path";
import { rememberSignIn } from "../../auth/credentials.js";
import { api, type SignInResult, type SnippetPiece } from "../../protocol/api/index.js";
import { useClient, useQuery } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation, type DialogSpec, type Screen } from "../navigation.js";
import { ChoiceDialog, HelpDialog, TextPromptDialog } from "./Dialogs.js";

type PromptSpec = Extract<DialogSpec, { kind: "prompt" }>;

function AddWorkerDialog({ machine, width }: { machine?: string; width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const spec: PromptSpec = {
    kind: "prompt",
    title: "Add a worker: an OpenCode server for a directory",
    label: "Directory:",
    initial: process.cwd(),
    submit: (value) =>
      client.call(api.workers.add, { directory: resolve(value.trim() || "."), ...(machine ? { machine } : {}) }).then((worker) => {
        nav.setFleet((f) => ({ ...f, selectedId: worker.id }));
        nav.notify(`added ${worker.name}; it is starting`);
      }),
  };
  return <PromptDialog spec={spec} width={width} />;
}

/** What the user typed as a search query, the last word a prefix so results come as they type. */
function liveQuery(typed: string): string | null {
  const q = typed.trim();
  if (!q) return null;
  return /[\p{L}\p{N}_]$/u.test(q) && !/"/.test(q) ? `${q}*` : q;
}

/** Chats whose title or worker match, then messages that match (api.search.messages, live). */
function SearchDialog({ width }: { width: number }) {
  const nav = useNavigation();
  const chats = useQuery(api.chat.list, { all: true }).data ?? [];
  const [query, setQuery] = useState("");
  const [index, setIndex] = useState(0);
  const ftsQuery = liveQuery(query);
  const search = useQuery(api.search.messages, ftsQuery ? { query: ftsQuery, limit: 8 } : null);
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const titles = chats.filter((c) => words.every((w) => `${c.title} ${c.workerName}`.toLowerCase().includes(w))).slice(0, words.length > 0 ? 5 : 12);
  const hits = ftsQuery ? (search.data ?? []) : [];
  const found: Array<{ key: string; chatId: string; at?: { messageId: string; partId: string }; title: string; detail: string; snippet: SnippetPiece[] }> = [
    ...titles.map((c) => ({ key: c.id, chatId: c.id, title: c.title, detail: `${c.workerName}${c.archived ? " · archived" : ""}`, snippet: [] })),
    ...hits.map((h) => ({
      key: `${h.messageId}/${h.partId}`,
      chatId: h.chatId,
      at: { messageId: h.messageId, partId: h.partId },
      title: h.chatTitle,
      detail: `${h.workerName} · ${h.role}`,
      snippet: h.snippet,
    })),
  ];
  useKeys((event) => {
    if (isCommand("cancel", event)) nav.close();
    else if (event.name === "up") setIndex((i) => Math.max(0, i - 1));
    else if (event.name === "down") setIndex((i) => Math.min(found.length - 1, i + 1));
    else if (event.name === "return" && found[index]) {
      nav.close();
      // A message hit opens the chat at that message (scrolled to it and marked).
      const { chatId, at } = found[index]!;
      nav.go(at ? { name: "chat", chatId, at } : { name: "chat", chatId });
    } else if (event.name === "backspace") setQuery((q) => q.slice(0, -1));
    else if (event.name === "text") {
      setQuery((q) => q + event.text);
      setIndex(0);
    }
    return true;
  }, PRIORITY.dialog);
  return (
    <Box borderStyle="round" borderColor={tint("cyan")} flexDirection="column" width={width} paddingX={1}>
      <Text bold>Search chats and messages</Text>
      <Text>
        / {query}
        <Text inverse> </Text>
      </Text>
      {found.length === 0 ? <Text dimColor>{search.error && ftsQuery ? sanitizeInline(search.error.message) : "nothing matches"}</Text> : null}
      {found.map((item, i) => (
        <Text key={item.key} inverse={i === index} wrap="truncate-end">
          {sanitizeInline(item.title)} <Text dimColor>· {sanitizeInline(item.detail)}</Text>
          {item.snippet.length > 0 ? " " : ""}
          {item.snippet.map((piece, j) => (
            <Text key={j} bold={piece.match} color={piece.match ? tint("yellow") : undefined}>
              {sanitizeInline(piece.text)}
            </Text>
          ))}
        </Text>
      ))}
      <Text dimColor>type to search titles and messages · ↑↓ · Enter opens the chat (at the message) · Esc closes</Text>
    </Box>
  );
}

const SCREENS: Array<{ label: string; screen: Screen }> = [
  { label: "Fleet: machines, workers and chats", screen: { name: "fleet" } },
  { label: "Workers", screen: { name: "workers" } },
  { label: "Machines", screen: { name: "machines" } },
  { label: "Checklists", screen: { name: "checklists" } },
  { label: "Attendance", screen: { name: "attendance" } },
  { label: "Discussions", screen: { name: "discussions" } },
  { label: "Presentations: follow one", screen: { name: "presentations" } },
  { label: "Scheduled prompts", screen: { name: "schedules" } },
  { label: "Admin: users and cleanup jobs", screen: { name: "admin" } },
];

function SignInDialog({ width }: { width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const [step, setStep] = useState<"choose" | "code" | "google">("choose");
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const done = async (result: SignInResult) => {
    await rememberSignIn(nav.home, result);
    nav.close();
    if (result.recoveryCode) {
      nav.open({
        kind: "message",
        title: `Signed in as ${result.user.name}`,
        body: `Your recovery code (shown only now; keep it safe):\n\n  ${result.recoveryCode}\n\nSign back in with it: ocfleet login --recovery`,
      });
    } else nav.notify(`signed in as ${result.user.name}`);
  };
  if (step === "code") {
    return (
      <TextPromptDialog
        title="Sign in with a login code (from `ocfleet auth code` on a signed-in client)"
        label="Code:"
        error={error}
        width={width}
        onCancel={nav.close}
        onSubmit={(code) => client.call(api.auth.loginWithCode, { code }).then(done, (err: Error) => setError(err.message))}
      />
    );
  }
  if (step === "google") {
    return (
      <Box borderStyle="round" borderColor={tint("cyan")} flexDirection="column" width={width} paddingX={1}>
        <Text bold>Sign in with Google</Text>
        {lines.map((line, i) => (
          <Text key={i} wrap="wrap">
            {sanitizeInline(line)}
          </Text>
        ))}
        {error ? <Text color={tint("red")}>✗ {sanitizeInline(error)}</Text> : <Text color={tint("yellow")}>waiting for the browser…</Text>}
        <GoogleEsc />
      </Box>
    );
  }
  return (
    <ChoiceDialog
      title="Sign in"
      width={width}
      onCancel={nav.close}
      choices={[
        { label: "As a new anonymous user", hint: "(a recovery code is shown once)", value: "anonymous" as const },
        { label: "With Google", hint: "(opens your browser)", value: "google" as const },
        { label: "With a login code", value: "code" as const },
      ]}
      onChoose={(choice) => {
        if (choice === "anonymous") client.call(api.auth.loginAnonymous, {}).then(done, (err: Error) => nav.notify(err.message, true));
        else if (choice === "code") setStep("code");
        else {
          setStep("google");
          import("../../auth/loopback.js")
            .then(({ signInWithBrowser }) => signInWithBrowser(client, { say: (line) => setLines((l) => [...l, line]) }))
            .then(done, (err: Error) => setError(err.message));
        }
      }}
    />
  );
}

function GoogleEsc() {
  const nav = useNavigation();
  useKeys((event) => {
    if (isCommand("cancel", event)) nav.close();
    return true;
  }, PRIORITY.dialog);
  return <Text dimColor>Esc closes (the sign-in stops waiting after 5 minutes)</Text>;
}

function MessageDialog({ title, body, width }: { title: string; body: string; width: number }) {
  const nav = useNavigation();
  useKeys((event) => {
    if (isCommand("cancel", event) || isCommand("open", event)) nav.close();
    return true;
  }, PRIORITY.dialog);
  return (
    <Box borderStyle="round" borderColor={tint("green")} flexDirection="column" width={width} paddingX={1}>
      <Text bold>{sanitizeInline(title)}</Text>
      <Text>{sanitize(body)}</Text>
      <Text dimColor>Enter or Esc closes</Text>
    </Box>
  );
}

function PickModelDialog({ chatId, worker, width }: { chatId: string; worker: string; width: number }) {
  const nav = useNavigation();
  const models = useQuery(api.workerModels.list, { worker }).data ?? [];
  return (
    <ChoiceDialog
      title="Model for new messages in this chat"
      width={width}
      onCancel={nav.close}
      choices={[
        { label: "the worker's default", value: null as string | null },
        ...models.map((m) => ({
          label: sanitizeInline(m.id),
          hint: sanitizeInline(`${m.name}${m.isDefault ? " (default)" : ""}`),
          value: m.id as string | null,
        })),
      ]}
      onChoose={(model) => {
        nav.setModel(chatId, model);
        nav.close();
        nav.notify(model ? `new messages use ${model}` : "new messages use the worker's default model");
      }}
    />
  );
}

function PromptDialog({ spec, width }: { spec: PromptSpec; width: number }) {
  const nav = useNavigation();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  return (
    <TextPromptDialog
      title={spec.title}
      label={spec.label}
      initial={spec.initial}
      busy={state.busy}
      error={state.error}
      width={width}
      onCancel={nav.close}
      onSubmit={(value) => {
        setState({ busy: true, error: null });
        spec.submit(value).then(nav.close, (err: Error) => setState({ busy: false, error: err.message }));
      }}
    />
  );
}

function AddChecklistItemDialog({ checklistKey, width }: { checklistKey: string; width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  return (
    <TextPromptDialog
      title={`Add an item to ${checklistKey}`}
      label="Item:"
      error={error}
      width={width}
      onCancel={nav.close}
      onSubmit={(text) => client.call(api.checklists.addItem, { key: checklistKey, text }).then(nav.close, (err: Error) => setError(err.message))}
    />
  );
}

/** A scheduled prompt in three questions: the worker, when (cron), and the prompt. */
function AddScheduleDialog({ width }: { width: number }) {
  const nav = useNavigation();
  const client = useClient();
  const [answers, setAnswers] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const steps = [
    { title: "New scheduled prompt (1/3): on which worker?", label: "Worker:" },
    { title: "New scheduled prompt (2/3): when? A cron pattern, e.g. 0 9 * * 1-5 (9:00 on weekdays)", label: "Cron:" },
    { title: "New scheduled prompt (3/3): what to send", label: "Prompt:" },
  ] as const;
  const step = steps[answers.length]!;
  return (
    <TextPromptDialog
      key={answers.length}
      title={step.title}
      label={step.label}
      error={error}
      width={width}
      onCancel={nav.close}
      onSubmit={(value) => {
        const all = [...answers, value.trim()];
        if (all.length < steps.length) return setAnswers(all);
        const [worker, cron, prompt] = all as [string, string, string];
        client.call(api.schedules.add, { worker, cron, prompt }).then(
          (schedule) => {
            nav.close();
            nav.notify(`scheduled ${schedule.name}`);
          },
          (err: Error) => setError(err.message),
        );
      }}
    />
  );
}

function ConfirmDialog({ title, yes, width }: { title: string; yes(): unknown; width: number }) {
  const nav = useNavigation();
  useKeys((event) => {
    if (isCommand("permitOnce", event) || isCommand("open", event)) {
      nav.close();
      void yes();
    } else if (isCommand("reject", event) || isCommand("cancel", event)) nav.close();
    return true;
  }, PRIORITY.dialog);
  return (
    <Box borderStyle="round" borderColor={tint("yellow")} flexDirection="column" width={width} paddingX={1}>
      <Text bold wrap="wrap">
        {sanitizeInline(title)}
      </Text>
      <Text dimColor>y or Enter: yes · n or Esc: no</Text>
    </Box>
  );
}

export function DialogLayer({ dialog, width, rows }: { dialog: DialogSpec; width: number; rows: number }) {
  const nav = useNavigation();
  const w = Math.min(width, 100);
  switch (dialog.kind) {
    case "help":
      return <HelpDialog onClose={nav.close} width={w} rows={rows} />;
    case "addWorker":
      return <AddWorkerDialog machine={dialog.machine} width={w} />;
    case "search":
      return <SearchDialog width={w} />;
    case "goto":
      return (
        <ChoiceDialog
          title="Go to"
          width={w}
          onCancel={nav.close}
          choices={SCREENS.map((s) => ({ label: s.label, value: s.screen }))}
          onChoose={(screen) => {
            nav.close();
            nav.go(screen);
          }}
        />
      );
    case "signIn":
      return <SignInDialog width={w} />;
    case "pickModel":
      return <PickModelDialog chatId={dialog.chatId} worker={dialog.worker} width={w} />;
    case "addChecklistItem":
      return <AddChecklistItemDialog checklistKey={dialog.key} width={w} />;
    case "confirm":
      return <ConfirmDialog title={dialog.title} yes={dialog.yes} width={w} />;
    case "addSchedule":
      return <AddScheduleDialog width={w} />;
    case "message":
      return <MessageDialog title={dialog.title} body={dialog.body} width={w} />;
    case "prompt":
      return <PromptDialog spec={dialog} width={w} />;
  }
}
