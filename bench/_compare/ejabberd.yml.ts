/**
 * The configuration of the bench's private ejabberd (23.01): loopback only, one virtual host,
 * SCRAM-SHA-1 stored passwords (as Prosody's `internal_hashed` and the embedded server store
 * them), the c2s shaper off (the packaged config throttles each client to 3 000 bytes/s),
 * `backlog: 1024` on both listeners (the default of 5 loses SYNs under bursts), WebSocket at
 * `/ws` and `mod_http_api` at `/api` (accounts are registered through it, from loopback only).
 *
 * @example
 * ```ts
 * import { ejabberdConfig } from "./ejabberd.yml.ts";
 * console.log(ejabberdConfig(5222, 5280).includes("backlog: 1024")); // true
 * ```
 * @module
 */

/** The YAML for a c2s port and an HTTP port. */
export function ejabberdConfig(c2sPort: number, httpPort: number): string {
  return `hosts:
  - localhost
loglevel: warning
log_rotate_count: 0
certfiles: []
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha
shaper: {}
shaper_rules: {}
websocket_timeout: 3600
acl:
  loopback:
    ip:
      - 127.0.0.0/8
access_rules:
  c2s:
    allow: all
api_permissions:
  "bench admin":
    from:
      - mod_http_api
    who:
      ip: 127.0.0.0/8
    what: "*"
listen:
  - port: ${c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    shaper: none
    access: c2s
    starttls: false
    backlog: 1024
    max_stanza_size: 262144
  - port: ${httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    backlog: 1024
    request_handlers:
      /ws: ejabberd_http_ws
      /api: mod_http_api
modules:
  mod_http_api: {}
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
`;
}
