/**
 * format-http (`http`): the format of routes whose clients speak plain HTTP, not a model API —
 * proxy routes. Nothing on them is translated; the gateway's own errors are the plain JSON body
 * API clients expect from a proxy: {"error":{"message","type","code"}}. A model request on such a
 * route (a route left at `endpoint: "generate"`) is refused with that error, not misread.
 */
import { definePlugin, type FormatTranslator } from "../../core/index.js";
import { nonModelFormat } from "../../lib/wire/non-model-format.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "format-http";

export const httpTranslator: FormatTranslator = nonModelFormat({
  format: "http",
  plugin: PLUGIN,
  instead: '"endpoint": "proxy" and add the http-proxy step',
  renderError: (err) => ({ status: err.status, body: { error: { message: err.message, type: err.type, code: err.code } } }),
});

export default definePlugin({
  kind: "format",
  name: PLUGIN,
  format: "http",
  description: "Plain HTTP clients on proxy routes: nothing translated; the gateway's own errors as {\"error\":{\"message\",\"type\",\"code\"}}.",
  configSchema,
  translator: httpTranslator,
});
