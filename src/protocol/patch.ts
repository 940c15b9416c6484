// Structural diff of JSON values, so a subscription sends only what changed.
// Appends to strings and arrays get their own ops: a streaming reply grows by appends.
export type Path = Array<string | number>;

export type PatchOp =
  | { op: "set"; path: Path; value: unknown }
  | { op: "del"; path: Path }
  | { op: "append"; path: Path; text: string }
  | { op: "push"; path: Path; items: unknown[] }
  | { op: "trunc"; path: Path; length: number };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(b, key) || !jsonEqual(a[key], b[key])) return false;
    }
    return true;
  }
  return false;
}

/** Ops that turn `before` into `after`. Both must be plain JSON values. */
export function diff(before: unknown, after: unknown): PatchOp[] {
  const ops: PatchOp[] = [];
  diffInto(before, after, [], ops);
  return ops;
}

function diffInto(before: unknown, after: unknown, path: Path, ops: PatchOp[]): void {
  if (before === after) return;
  if (typeof before === "string" && typeof after === "string") {
    if (before.length > 0 && after.length > before.length && after.startsWith(before)) {
      ops.push({ op: "append", path, text: after.slice(before.length) });
    } else {
      ops.push({ op: "set", path, value: after });
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < common; i++) diffInto(before[i], after[i], [...path, i], ops);
    if (after.length > before.length) ops.push({ op: "push", path, items: after.slice(common) });
    else if (after.length < before.length) ops.push({ op: "trunc", path, length: after.length });
    return;
  }
  if (isObject(before) && isObject(after)) {
    for (const key of Object.keys(before)) {
      if (!Object.hasOwn(after, key)) ops.push({ op: "del", path: [...path, key] });
    }
    for (const key of Object.keys(after)) {
      if (Object.hasOwn(before, key)) diffInto(before[key], after[key], [...path, key], ops);
      else ops.push({ op: "set", path: [...path, key], value: after[key] });
    }
    return;
  }
  if (!jsonEqual(before, after)) ops.push({ op: "set", path, value: after });
}

/**
 * Applies ops to a value and returns the new value. The input is not mutated:
 * containers along each changed path are copied, so UI code can compare by identity.
 */
export function applyPatch(value: unknown, ops: readonly PatchOp[]): unknown {
  let root = value;
  for (const op of ops) root = applyOne(root, op, 0);
  return root;
}

function applyOne(node: unknown, op: PatchOp, depth: number): unknown {
  if (depth === op.path.length) return applyHere(node, op);
  const key = op.path[depth]!;
  if (Array.isArray(node)) {
    const copy = node.slice();
    const index = Number(key);
    if (depth === op.path.length - 1 && op.op === "del") {
      copy.splice(index, 1);
      return copy;
    }
    copy[index] = applyOne(copy[index], op, depth + 1) as Json;
    return copy;
  }
  if (isObject(node)) {
    const copy: Record<string, unknown> = { ...node };
    if (depth === op.path.length - 1 && op.op === "del") {
      delete copy[key];
      return copy;
    }
    copy[key] = applyOne(copy[key], op, depth + 1);
    return copy;
  }
  throw new Error(`patch path ${JSON.stringify(op.path)} does not exist`);
}

function applyHere(node: unknown, op: PatchOp): unknown {
  switch (op.op) {
    case "set":
      return op.value;
    case "append":
      if (typeof node !== "string") throw new Error(`append at ${JSON.stringify(op.path)} needs a string`);
      return node + op.text;
    case "push":
      if (!Array.isArray(node)) throw new Error(`push at ${JSON.stringify(op.path)} needs an array`);
      return [...node, ...op.items];
    case "trunc":
      if (!Array.isArray(node)) throw new Error(`trunc at ${JSON.stringify(op.path)} needs an array`);
      return node.slice(0, op.length);
    case "del":
      throw new Error("del needs a non-empty path");
  }
}
