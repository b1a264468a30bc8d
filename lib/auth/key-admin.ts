/**
 * The key-admin question, between the admin API (asks) and the auth step that owns a keys file
 * (auth-api-key answers, over the same file `switchyard keys` edits): list, add (the key returned
 * once, only its hash stored), disable. The admin API never learns where the file is.
 */
import type { AsyncSeriesBailHook } from "tapable";
import type { Exchange, PipelineHooks } from "../../core/index.js";

/** A key as listed: never its hash. `status`: active, disabled, `expired <ISO>` or `active until <ISO>`. */
export interface KeyListing {
  id: string;
  tenant: string;
  role: "client" | "admin";
  status: string;
  expiresAt?: string;
  models: string[] | null;
  pipelines: string[] | null;
  description?: string;
}

export interface NewKey {
  id: string;
  tenant: string;
  role?: string;
  models?: string[];
  pipelines?: string[];
  /** ISO 8601, in the future. */
  expiresAt?: string;
  description?: string;
}

export interface KeyAdmin {
  list(): Promise<KeyListing[]>;
  /** The new key in clear, this once. */
  add(spec: NewKey): Promise<{ key: string; listing: KeyListing }>;
  disable(id: string): Promise<{ alreadyDisabled: boolean }>;
}

/** A request the keys file cannot take (an id used twice, an unknown id, a bad role): the admin's mistake, answered 400/404. */
export class KeyAdminError extends Error {
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
    this.name = "KeyAdminError";
  }
}

function keyAdminQueries(hooks: PipelineHooks): AsyncSeriesBailHook<[undefined, Exchange | undefined], KeyAdmin | undefined> {
  return hooks.query.for("key-admin") as unknown as AsyncSeriesBailHook<[undefined, Exchange | undefined], KeyAdmin | undefined>;
}

/** The first auth step's keys, when one of the pipeline's steps manages a keys file. */
export function askKeyAdmin(hooks: PipelineHooks): Promise<KeyAdmin | undefined> {
  return keyAdminQueries(hooks).promise(undefined, undefined);
}

export function answerKeyAdmin(hooks: PipelineHooks, step: string, admin: KeyAdmin): void {
  keyAdminQueries(hooks).tap(step, () => admin);
}
