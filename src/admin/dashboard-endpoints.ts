import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { OperatorDocument, OperatorEndpoint } from "../core/operator-endpoint.js";

/**
 * Nothing leaves the page for another origin (no CDN, no fonts): scripts, styles and the event
 * stream all come from here. uPlot sizes its canvas through the style property (CSSOM), which
 * style-src does not govern, so no 'unsafe-inline' is needed.
 */
const HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // A new gateway version may ship a new page: the browser asks again, and gets it unchanged cheaply enough.
  "cache-control": "no-cache",
};

interface Asset {
  readonly path: string;
  readonly file: URL | string;
  readonly contentType: string;
  readonly summary: string;
}

/**
 * The live dashboard: a static page and its script and styles (src/dashboard, copied to
 * dist/dashboard by the build) and uPlot's files from its npm package, all read once here.
 * Not admin: the page holds no data; it asks /admin/events and the target actions for it, with
 * the admin token the operator types.
 */
export function dashboardEndpoints(): OperatorEndpoint[] {
  const dir = new URL("../dashboard/", import.meta.url);
  const require = createRequire(import.meta.url);
  const assets: Asset[] = [
    {
      path: "/dashboard",
      file: new URL("index.html", dir),
      contentType: "text/html; charset=utf-8",
      summary: "The live dashboard (a page)",
    },
    {
      path: "/dashboard/dashboard.js",
      file: new URL("dashboard.js", dir),
      contentType: "text/javascript; charset=utf-8",
      summary: "The dashboard's script",
    },
    {
      path: "/dashboard/dashboard.css",
      file: new URL("dashboard.css", dir),
      contentType: "text/css; charset=utf-8",
      summary: "The dashboard's styles",
    },
    {
      path: "/dashboard/uPlot.iife.min.js",
      file: require.resolve("uplot/dist/uPlot.iife.min.js"),
      contentType: "text/javascript; charset=utf-8",
      summary: "uPlot, the dashboard's chart library",
    },
    {
      path: "/dashboard/uPlot.min.css",
      file: require.resolve("uplot/dist/uPlot.min.css"),
      contentType: "text/css; charset=utf-8",
      summary: "uPlot's styles",
    },
  ];
  return assets.map((a) => {
    const answer: OperatorDocument = { contentType: a.contentType, body: readFileSync(a.file), headers: HEADERS };
    return { method: "GET", path: a.path, admin: false, summary: a.summary, handle: () => answer };
  });
}
