/**
 * Contextual arms: the context a request falls in (`contextBy`), as one key, and the bound on how
 * many contexts keep statistics of their own.
 */
import type { Exchange, StateStore } from "../../core/index.js";
import type { SelectBanditConfig } from "./config.generated.js";

/** The key of the statistics every request also counts in. */
export const GLOBAL_CONTEXT = "*";

export type ContextBy = NonNullable<SelectBanditConfig["contextBy"]>;

function bodyLength(x: Exchange): number {
  return x.received?.bytes.length ?? JSON.stringify(x.body).length;
}

/** The request's context key, or GLOBAL_CONTEXT when no `contextBy` is configured. */
export function contextOf(x: Exchange, by: ContextBy, lengthBuckets: readonly number[]): string {
  if (by.length === 0) return GLOBAL_CONTEXT;
  const parts = by.map((dimension) => {
    if (typeof dimension === "object") {
      const value = x.headers[dimension.header.toLowerCase()];
      return `h=${Array.isArray(value) ? value.join(",") : value ?? ""}`;
    }
    switch (dimension) {
      case "tenant":
        return `t=${x.tenant ?? ""}`;
      case "format":
        return `f=${x.route.format}`;
      case "model":
        return `m=${x.model ?? ""}`;
      case "promptLength": {
        const length = bodyLength(x);
        const bucket = lengthBuckets.findIndex((bound) => length <= bound);
        return `p=${bucket === -1 ? lengthBuckets.length : bucket}`;
      }
    }
  });
  // Encoded so that a header value holding the separator cannot pass for another context.
  return parts.map(encodeURIComponent).join("&");
}

/**
 * Admits contexts up to `maxContexts`, counted in the store so the bound holds across instances.
 * A context admitted once is remembered here; the count is an atomic `add`, and a lost race
 * (two instances admitting one new context at once) only wastes a slot, never exceeds the bound.
 */
export class ContextAdmission {
  private readonly admitted = new Map<string, boolean>();

  constructor(
    private readonly store: StateStore,
    private readonly prefix: string,
    private readonly maxContexts: number,
    private readonly retainMs: number,
  ) {}

  async admit(context: string): Promise<boolean> {
    if (context === GLOBAL_CONTEXT) return true;
    const known = this.admitted.get(context);
    if (known !== undefined) return known;
    const marker = `${this.prefix}ctx:${context}`;
    let admitted = (await this.store.get(marker)) !== undefined;
    if (!admitted) {
      const count = await this.store.add(`${this.prefix}contexts`, 1, this.retainMs);
      admitted = count <= this.maxContexts;
      if (admitted) await this.store.set(marker, "1", this.retainMs);
      else await this.store.add(`${this.prefix}contexts`, -1, this.retainMs);
    }
    // Refusals are remembered too: asking the store again for every request of a context past the bound would cost a round trip each.
    if (this.admitted.size < this.maxContexts * 2) this.admitted.set(context, admitted);
    return admitted;
  }
}
