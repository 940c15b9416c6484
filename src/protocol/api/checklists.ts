// Checklists: items under a key, live for everyone on the hub.
import type { ChecklistId, ChecklistItemId, UserId } from "../ids.js";
import { defineModule, mutation, query, type NoArgs } from "./define.js";

export interface ChecklistItemView {
  id: ChecklistItemId;
  /** 1-based position in the list. */
  position: number;
  text: string;
  done: boolean;
  doneAt: number | null;
  doneBy: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface ChecklistView {
  id: ChecklistId;
  key: string;
  ownerId: UserId;
  ownerName: string;
  concluded: boolean;
  concludedAt: number | null;
  concludedBy: string | null;
  createdAt: number;
  updatedAt: number;
  items: ChecklistItemView[];
}

export interface ChecklistSummary {
  key: string;
  itemCount: number;
  doneCount: number;
  concluded: boolean;
  updatedAt: number;
}

type Key = { key: string };
type ItemRef = { key: string; itemId: ChecklistItemId };

export const checklists = defineModule("checklists", {
  list: query<NoArgs, ChecklistSummary[]>(),
  /** null until the first item is added. */
  get: query<Key, ChecklistView | null>(),
  addItem: mutation<Key & { text: string }, ChecklistItemView>(),
  /** Flips the item, or sets it when `done` is given. */
  toggleItem: mutation<ItemRef & { done?: boolean }, ChecklistItemView>(),
  editItem: mutation<ItemRef & { text: string }, ChecklistItemView>(),
  removeItem: mutation<ItemRef, { removed: true }>(),
  /** Moves the item to a 1-based position; positions past the end mean "last". */
  moveItem: mutation<ItemRef & { position: number }, ChecklistItemView>(),
  clearCompleted: mutation<Key, { removed: number }>(),
  conclude: mutation<Key, ChecklistView>(),
  reopen: mutation<Key, ChecklistView>(),
});
