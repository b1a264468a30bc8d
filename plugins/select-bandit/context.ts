/**
 * Contextual arms: the context a request falls in (`contextBy`), as one key, and the bound on how
 * many contexts keep statistics of their own.
 */
import { GatewayError, type Exchange, type Predicate, type StateStore } from "../../core/index.js";
import type { SelectBanditConfig } from "./config.generated.js";

/** The key of the statistics every request also counts in. */
export const GLOBAL_CONTEXT = "*";

export type ContextBy = NonNullable<SelectBanditConfig["contextBy"]>;

function bodyLength(x: Exchange): number {
  return x.received?.bytes.length ?? JSON.stringify(x.body).length;
}

/**
 * The request's context key (GLOBAL_CONTEXT when no `contextBy` is configured), as a function made
 * once. A `{ matchers }` dimension names matchers of the pipeline file: its value is the first one
 * that matches (or none), so an unknown name is refused here, when the step is created.
 */
export function contextKey(by: ContextBy, lengthBuckets: readonly number[], matchers: ReadonlyMap<string, Predicate>, stepId: string): (x: Exchange) => string {
  if (by.length === 0) return () => GLOBAL_CONTEXT;
  const dimensions = by.map((dimension): ((x: Exchange) => string) => {
    if (typeof dimension === "object" && "header" in dimension) {
      const name = dimension.header.toLowerCase();
      return (x) => {
        const value = x.headers[name];
        return `h=${Array.isArray(value) ? value.join(",") : value ?? ""}`;
      };
    }
    if (typeof dimension === "object") {
      const named = dimension.matchers.map((name) => {
        const predicate = matchers.get(name);
        if (predicate !== undefined) return { name, predicate };
        const known = [...matchers.keys()];
        throw new GatewayError({
          status: 500, type: "internal", code: "invalid_config", source: stepId,
          message: `${stepId}: contextBy names the matcher "${name}", which the pipeline's "matchers" do not define${known.length > 0 ? ` (it defines ${known.join(", ")})` : ""}`,
        });
      });
      return (x) => `w=${named.find(({ predicate }) => predicate(x))?.name ?? ""}`;
    }
    switch (dimension) {
      case "tenant":
        return (x) => `t=${x.tenant ?? ""}`;
      case "format":
        return (x) => `f=${x.route.format}`;
      case "model":
        return (x) => `m=${x.model ?? ""}`;
      case "promptLength":
        return (x) => {
          const length = bodyLength(x);
          const bucket = lengthBuckets.findIndex((bound) => length <= bound);
          return `p=${bucket === -1 ? lengthBuckets.length : bucket}`;
        };
    }
  });
  // Encoded so that a header value holding the separator cannot pass for another context.
  return (x) => dimensions.map((dimension) => encodeURIComponent(dimension(x))).join("&");
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
