/**
 * Progress notifications from an upstream, routed by tokens of the gateway's own. The SDK's
 * `onprogress` option is not used: the SDK handles a notification a microtask later but a
 * response at once, so progress the server sent just before its result (in the same read) finds
 * its handler already gone and is dropped. Here a route stays open until the call's own code has
 * seen the result, which runs after those pending notifications.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ProgressNotificationSchema, type Progress } from "@modelcontextprotocol/sdk/types.js";

export interface ProgressRoute {
  readonly token: string;
  close(): void;
}

class ProgressRoutes {
  private next = 0;
  private readonly routes = new Map<string, (progress: Progress) => void>();

  constructor(client: Client) {
    client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
      const { progressToken, ...progress } = notification.params;
      this.routes.get(String(progressToken))?.(progress as Progress);
    });
  }

  open(onProgress: (progress: Progress) => void): ProgressRoute {
    const token = `switchyard-${++this.next}`;
    this.routes.set(token, onProgress);
    return { token, close: () => this.routes.delete(token) };
  }
}

const byClient = new WeakMap<Client, ProgressRoutes>();

export function progressRoutes(client: Client): ProgressRoutes {
  let routes = byClient.get(client);
  if (routes === undefined) {
    routes = new ProgressRoutes(client);
    byClient.set(client, routes);
  }
  return routes;
}
