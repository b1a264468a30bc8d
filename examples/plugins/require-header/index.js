// An integrator's step plugin, loaded by path: `{ "use": "./plugins/require-header", ... }`.
// It refuses requests without a header (say, the calling team), in the client's own error format.
// Plain JavaScript: switchyard loads plugins at run time without a TypeScript loader.
import { readFileSync } from "node:fs";
import { GatewayError, definePlugin } from "switchyard";

const PLUGIN = "require-header";
const configSchema = JSON.parse(readFileSync(new URL("./config.schema.json", import.meta.url), "utf8"));

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Rejects requests that lack a header (or carry a value not allowed) with a 400.",
  configSchema,
  create(config) {
    const name = config.header.toLowerCase();
    const allowed = config.allowed ? new Set(config.allowed) : undefined;
    return {
      apply(hooks) {
        hooks.validate.tap(PLUGIN, (exchange) => {
          const value = exchange.headers[name];
          if (typeof value !== "string" || value === "") {
            return new GatewayError({ status: 400, type: "invalid_request", code: "missing_header", message: `header ${name} is required`, source: PLUGIN });
          }
          if (allowed && !allowed.has(value)) {
            return new GatewayError({ status: 403, type: "permission", code: "header_not_allowed", message: `${name} "${value}" is not allowed here`, source: PLUGIN });
          }
          return undefined;
        });
      },
    };
  },
});
