/**
 * The demo page of the embedded server: a small chat page at `/`, built on this package's own
 * client library. `/` is static HTML (the WebSocket URL, the domain and the demo usernames in
 * `<meta>` tags, escaped; never a password), `/demo/app.js` the page's script and
 * `/demo/xmpp-client.js` deno/client.ts bundled for browsers at build time (see `build.ts`;
 * nothing is bundled at start-up). Every answer carries a strict Content-Security-Policy (scripts
 * and styles from this origin only, connections to WebSocket URLs only).
 *
 * @example
 * ```ts
 * import { demoPage } from "./page.ts";
 * const page = demoPage({
 *   websocketUrl: "ws://127.0.0.1:5280/xmpp-websocket",
 *   domain: "localhost",
 *   usernames: ["alice", "bob"],
 *   bundle: "export class XmppClient {}",
 * });
 * const response = page(new Request("http://127.0.0.1:5280/"));
 * console.log(response?.status, response?.headers.get("content-type")); // 200 "text/html; charset=utf-8"
 * console.log(page(new Request("http://127.0.0.1:5280/other"))); // undefined
 * ```
 * @module
 */

import { APP_SCRIPT } from "./_app.ts";

/** What the page shows and connects to. */
export interface DemoPageOptions {
  /** The WebSocket endpoint's URL, fixed or from the request (as discovery advertises it). */
  readonly websocketUrl: string | ((request: Request) => string);
  /** The XMPP domain. */
  readonly domain: string;
  /** Usernames offered in the login form (the demo accounts); never their passwords. */
  readonly usernames: readonly string[];
  /** The client library bundled for browsers (ES module exporting `XmppClient`). */
  readonly bundle: string;
}

/** The paths served by {@link demoPage}. */
export const DEMO_PATHS: readonly string[] = [
  "/",
  "/index.html",
  "/demo/app.js",
  "/demo/xmpp-client.js",
  "/demo/style.css",
];

/**
 * Returns a handler answering the demo page's paths (GET and HEAD), and `undefined` for any
 * other path or method.
 *
 * @example
 * ```ts
 * import { demoPage } from "./page.ts";
 * const page = demoPage({ websocketUrl: "ws://h/ws", domain: "d", usernames: [], bundle: "" });
 * const csp = page(new Request("http://h/demo/app.js"))?.headers.get("content-security-policy");
 * console.log(csp?.includes("script-src 'self'")); // true
 * ```
 */
export function demoPage(
  options: DemoPageOptions,
): (request: Request) => Response | undefined {
  const files: Record<string, readonly [string, string]> = {
    "/demo/app.js": ["text/javascript; charset=utf-8", APP_SCRIPT],
    "/demo/xmpp-client.js": ["text/javascript; charset=utf-8", options.bundle],
    "/demo/style.css": ["text/css; charset=utf-8", STYLE],
  };
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return undefined;
    const path = new URL(request.url).pathname;
    const websocketUrl = typeof options.websocketUrl === "string"
      ? options.websocketUrl
      : options.websocketUrl(request);
    const headers = (type: string) => ({
      "content-type": type,
      "cache-control": "no-cache",
      "content-security-policy": contentSecurityPolicy(websocketUrl),
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    if (path === "/" || path === "/index.html") {
      const html = pageHtml(websocketUrl, options.domain, options.usernames);
      const body = request.method === "HEAD" ? null : html;
      return new Response(body, { headers: headers("text/html; charset=utf-8") });
    }
    const file = files[path];
    if (file === undefined) return undefined;
    return new Response(request.method === "HEAD" ? null : file[1], { headers: headers(file[0]) });
  };
}

/** Scripts, styles and connections limited to what the page needs; no inline code at all. */
function contentSecurityPolicy(websocketUrl: string): string {
  // The URL is ours (configuration or a checked Host); keep only characters a CSP source allows.
  const source = websocketUrl.replace(/[^A-Za-z0-9:/._~%\[\]-]/g, "");
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // The endpoint, or another one typed into the form (the page runs no code but its own).
    `connect-src ${source} ws: wss:`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Escapes text for HTML content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pageHtml(websocketUrl: string, domain: string, usernames: readonly string[]): string {
  const meta = (name: string, content: string) =>
    `<meta name="${name}" content="${escapeHtml(content)}">`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xmpp-websocket demo</title>
${meta("xmpp-websocket-url", websocketUrl)}
${meta("xmpp-domain", domain)}
${meta("xmpp-demo-accounts", usernames.join(","))}
<link rel="stylesheet" href="/demo/style.css">
<script type="module" src="/demo/app.js"></script>
</head><body>
<header><h1>xmpp-websocket</h1><p>A chat page on the embedded server, through this package's
own client library (XMPP over WebSocket, RFC 7395). Log in with a demo account: its password
was printed when the server started.</p></header>
<main>
<section id="account">
<form id="login-form" autocomplete="off">
<label>WebSocket URL <input id="service" required></label>
<label>Domain <input id="domain" required></label>
<label>Username <input id="username" list="usernames" required></label>
<datalist id="usernames"></datalist>
<label>Password <input id="password" type="password" required></label>
<button id="login" type="submit">Log in</button>
</form>
<p>Connection: <output id="status" data-status="idle">idle</output> <span id="me"></span></p>
<p><button id="drop" type="button" disabled title="Close the WebSocket without &lt;close/&gt;: the client resumes the session (XEP-0198)">Drop connection</button>
<button id="logout" type="button" disabled>Log out</button></p>
</section>
<section id="contacts"><h2>Contacts</h2><ul id="roster"></ul></section>
<section id="chat"><h2>Messages</h2><ol id="log"></ol>
<form id="message-form" autocomplete="off">
<label>To <input id="to" placeholder="bob@${escapeHtml(domain)}"></label>
<label>Message <input id="body"></label>
<button id="send" type="submit" disabled>Send</button>
</form></section>
</main>
</body></html>
`;
}

const STYLE =
  `body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; }
header p { color: #555; }
main { display: grid; gap: 1rem; grid-template-columns: 18rem 1fr; }
#account { grid-column: 1 / -1; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85em; color: #444; }
input { font: inherit; padding: .25rem; }
#status { font-weight: bold; }
#status[data-status="online"] { color: #070; }
#status[data-status="reconnecting"], #status[data-status="connecting"] { color: #a60; }
#status[data-status="closed"] { color: #a00; }
#roster { list-style: none; padding: 0; }
#roster button { font: inherit; background: none; border: none; padding: 0; cursor: pointer; text-decoration: underline; }
#roster li[data-presence="online"] .presence { color: #070; }
#roster li[data-presence="offline"] .presence { color: #888; }
#log { list-style: none; padding: 0; max-height: 24rem; overflow-y: auto; border: 1px solid #ddd; }
#log li { padding: .15rem .4rem; white-space: pre-wrap; overflow-wrap: anywhere; }
#log li[data-kind="out"] { color: #035; }
#log li[data-kind="event"] { color: #666; font-style: italic; }
#log li[data-kind="error"] { color: #a00; }
#log time { color: #999; font-size: .8em; }
`;
