// How the contract names a method: its wire name, its kind, and (in types only) its arguments and result.
// No validators here: zod is the daemon's business, so clients start fast without loading it.
export type MethodKind = "query" | "mutation" | "action";

export interface MethodRef<K extends MethodKind = MethodKind, A = unknown, R = unknown> {
  /** `module.function`, as on the wire. */
  readonly name: string;
  readonly kind: K;
  /** Phantom field: carries the argument and result types, never set at runtime. */
  readonly types?: { args: A; result: R };
}

export type QueryRef<A = any, R = any> = MethodRef<"query", A, R>;
export type MutationRef<A = any, R = any> = MethodRef<"mutation", A, R>;
export type ActionRef<A = any, R = any> = MethodRef<"action", A, R>;

export type ArgsOf<M> = M extends MethodRef<MethodKind, infer A, unknown> ? A : never;
export type ResultOf<M> = M extends MethodRef<MethodKind, unknown, infer R> ? R : never;

type Unnamed<M> = M extends MethodRef<infer K, infer A, infer R> ? { kind: K; types?: { args: A; result: R } } : never;

export const query = <A, R>(): Unnamed<QueryRef<A, R>> => ({ kind: "query" });
export const mutation = <A, R>(): Unnamed<MutationRef<A, R>> => ({ kind: "mutation" });
export const action = <A, R>(): Unnamed<ActionRef<A, R>> => ({ kind: "action" });

type Named<T> = {
  [K in keyof T]: T[K] extends { kind: infer Kind; types?: { args: infer A; result: infer R } }
    ? Kind extends MethodKind
      ? MethodRef<Kind, A, R>
      : never
    : never;
};

/** Gives each method of a module its wire name, `module.function`. */
export function defineModule<T extends Record<string, { kind: MethodKind }>>(module: string, methods: T): Named<T> {
  const named: Record<string, MethodRef> = {};
  for (const [fn, def] of Object.entries(methods)) named[fn] = { name: `${module}.${fn}`, kind: def.kind };
  return named as Named<T>;
}

/** Arguments of a method that takes none. */
export type NoArgs = Record<string, never>;
