// Checklists: the list of them, and one checklist whose items can be ticked and added, live.
import { Box, Text } from "ink";
import { tint } from "../theme.js";
import { sanitizeInline } from "../../terminal/sanitize.js";
import { useState } from "react";
import { api } from "../../protocol/api/index.js";
import { useCall } from "../hooks/call.js";
import { useQuery } from "../hooks/client.js";
import { PRIORITY, useKeys } from "../keys/dispatcher.js";
import { isCommand } from "../keys/keymap.js";
import { useNavigation } from "../navigation.js";

export function ChecklistsScreen({ width }: { width: number }) {
  const nav = useNavigation();
  const lists = useQuery(api.checklists.list, {}).data ?? [];
  const [index, setIndex] = useState(0);
  useKeys((event) => {
    if (isCommand("up", event)) setIndex((i) => Math.max(0, i - 1));
    else if (isCommand("down", event)) setIndex((i) => Math.min(lists.length - 1, i + 1));
    else if (isCommand("open", event) && lists[index]) nav.go({ name: "checklist", key: lists[index]!.key });
    else if (isCommand("back", event) || isCommand("cancel", event)) nav.go({ name: "fleet" });
    else if (isCommand("goTo", event)) nav.open({ kind: "goto" });
    else if (isCommand("newChecklist", event))
      nav.open({
        kind: "prompt",
        title: "New checklist (it is kept once it has an item: a adds one)",
        label: "Name:",
        submit: async (key) => nav.go({ name: "checklist", key: key.trim() }),
      });
    else return false;
    return true;
  }, PRIORITY.screen);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>Checklists</Text>
      {lists.length === 0 ? <Text dimColor>none yet; c creates one</Text> : null}
      {lists.map((l, i) => (
        <Text key={l.key} inverse={i === index}>
          {sanitizeInline(l.key)}{" "}
          <Text dimColor>
            {l.doneCount}/{l.itemCount} done{l.concluded ? " · concluded" : ""}
          </Text>
        </Text>
      ))}
    </Box>
  );
}

export function ChecklistScreen({ checklistKey, width }: { checklistKey: string; width: number }) {
  const nav = useNavigation();
  const call = useCall();
  const view = useQuery(api.checklists.get, { key: checklistKey }).data;
  const items = view?.items ?? [];
  const [index, setIndex] = useState(0);
  useKeys((event) => {
    const item = items[Math.min(index, items.length - 1)];
    if (isCommand("up", event)) setIndex((i) => Math.max(0, i - 1));
    else if (isCommand("down", event)) setIndex((i) => Math.min(items.length - 1, i + 1));
    else if ((isCommand("open", event) || isCommand("tick", event)) && item) void call(api.checklists.toggleItem, { key: checklistKey, itemId: item.id });
    else if (isCommand("addItem", event)) nav.open({ kind: "addChecklistItem", key: checklistKey });
    else if (isCommand("back", event) || isCommand("cancel", event)) nav.go({ name: "checklists" });
    else return false;
    return true;
  }, PRIORITY.screen);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>
        {sanitizeInline(checklistKey)}{" "}
        <Text dimColor>{view ? `${items.filter((i) => i.done).length}/${items.length} done${view.concluded ? " · concluded" : ""}` : "(empty)"}</Text>
      </Text>
      {items.map((item, i) => (
        <Text key={item.id} inverse={i === index} wrap="truncate-end">
          {item.done ? <Text color={tint("green")}>[x]</Text> : "[ ]"} {sanitizeInline(item.text)}
          {item.done && item.doneBy ? <Text dimColor> ✓ {sanitizeInline(item.doneBy)}</Text> : null}
        </Text>
      ))}
    </Box>
  );
}
