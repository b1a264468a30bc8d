/**
 * list-models: answers routes with `"endpoint": "models"` (GET /v1/models, GET /v1beta/models):
 * the models this pipeline's backends serve, in the route format's own listing shape. Concrete
 * names only (a glob is no model a client can ask for), each once, aliases owned by "switchyard".
 */
import { definePlugin, GatewayError, type Exchange, type EndpointIo } from "../../core/index.js";
import configSchema from "./config.schema.json" with { type: "json" };

const PLUGIN = "list-models";

export default definePlugin({
  kind: "step",
  name: PLUGIN,
  description: "Answers models routes: the models this pipeline's backends serve, in the route format's listing shape.",
  configSchema,
  endpoints: {
    models: { description: "the models this pipeline's backends serve", body: "handler" },
  },
  create() {
    return {
      apply(hooks) {
        hooks.endpoint.for("models").tapPromise(PLUGIN, async (exchange, io) => ({ status: 200, body: listModels(exchange, io) }));
      },
    };
  },
});

function listModels(x: Exchange, io: EndpointIo): unknown {
  const render = x.format.renderModels;
  if (!render) throw new GatewayError({ status: 404, type: "not_found", code: "not_found", message: `the ${x.route.format} format has no model listing` });
  const seen = new Set<string>();
  const models = io.pipeline.models.listed().filter((m) => !seen.has(m.model) && seen.add(m.model)).map((m) => ({ id: m.model, ownedBy: m.backend }));
  return render(models);
}
