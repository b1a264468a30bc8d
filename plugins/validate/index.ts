/**
 * validate: rejects malformed requests with a 400 that names the field, before they cost a
 * backend call. Checks are compiled once at load, one per known format (formats.ts).
 */
import { definePlugin, GatewayError, type Exchange, type Answer } from "../../core/index.js";
import type { ValidateConfig } from "./config.generated.js";
import configSchema from "./config.schema.json" with { type: "json" };
import { checkBuilders } from "./formats.js";
import type { RequestCheck } from "./wire-schema.js";

const PLUGIN = "validate";

export default definePlugin<ValidateConfig>({
  kind: "step",
  name: PLUGIN,
  description: "Checks request bodies against their format's schema and rules; 400 with the offending field.",
  configSchema,
  create(config) {
    const limits = { maxN: config.maxN ?? 1 };
    const checks = new Map<string, RequestCheck>(Object.entries(checkBuilders).map(([format, build]) => [format, build(limits)]));
    const requireKnownFormat = config.requireKnownFormat ?? false;

    function validate(exchange: Exchange): Answer | undefined {
      // Model listings carry no body worth checking.
      if (exchange.route.endpoint !== "generate") return undefined;
      const check = checks.get(exchange.route.format);
      if (!check) {
        if (!requireKnownFormat) return undefined;
        return new GatewayError({
          status: 400,
          type: "invalid_request",
          code: "unsupported_format",
          message: `requests in the ${exchange.route.format} format cannot be validated by this gateway`,
          source: PLUGIN,
        });
      }
      return check(exchange.body);
    }

    return {
      apply(hooks) {
        hooks.validate.tap(PLUGIN, validate);
      },
    };
  },
});
