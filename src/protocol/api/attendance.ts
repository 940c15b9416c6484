// Attendance: who is present, absent or remote under a key (a meeting, a day), live for everyone.
import type { UserId } from "../ids.js";
import { defineModule, mutation, query, type NoArgs } from "./define.js";

export type AttendanceStatus = "present" | "absent" | "remote";

export const ATTENDANCE_STATUSES = ["present", "absent", "remote"] as const satisfies readonly AttendanceStatus[];

export interface AttendanceEntryView {
  userId: UserId;
  userName: string;
  status: AttendanceStatus;
  reason: string | null;
  /** When the user first marked attendance under this key. */
  createdAt: number;
  updatedAt: number;
}

export interface AttendanceView {
  key: string;
  /** Entries in the order people first marked themselves. */
  entries: AttendanceEntryView[];
  counts: Record<AttendanceStatus, number>;
  createdAt: number;
  updatedAt: number;
}

export interface AttendanceSummary {
  key: string;
  counts: Record<AttendanceStatus, number>;
  updatedAt: number;
}

type Key = { key: string };

export const attendance = defineModule("attendance", {
  /** Every key with attendance, most recently changed first. */
  list: query<NoArgs, AttendanceSummary[]>(),
  /** null until someone marks attendance under the key. */
  get: query<Key, AttendanceView | null>(),
  /** Marks the caller (status defaults to present); marking again updates the entry. */
  mark: mutation<Key & { status?: AttendanceStatus; reason?: string }, AttendanceEntryView>(),
  /** Removes the caller's entry, or with `user` (an id, name or email) anyone's: admins only. */
  remove: mutation<Key & { user?: string }, { removed: true; userName: string }>(),
});
