/**
 * The gateway core: RFC 7395 toward browsers, RFC 6120 toward any XMPP server.
 *
 * @example
 * ```ts
 * import { createGateway } from "@xmpp-websocket/xmpp-websocket/gateway";
 * import { assertEquals } from "@std/assert";
 * assertEquals(createGateway({ domains: ["localhost"] }).upstream, undefined);
 * ```
 * @module
 */
export type {
  Gateway,
  GatewayConfig,
  GatewayInput,
  GatewayOutput,
  GatewayPhase,
  GatewaySide,
  GatewayStepResult,
  GatewayTimerKey,
  ResolvedGatewayConfig,
  SideInput,
  SideOutput,
  UpstreamTls,
} from "./types.ts";
export type {
  ClearTimer,
  Notice,
  NoticeLevel,
  SetTimer,
  StepResult,
  TimerFired,
} from "../reducer.ts";
export { createGateway, gatewayStep } from "./bridge.ts";
export { GATEWAY_TRANSITIONS } from "./transitions.ts";
export type { TransitionTable } from "../session/transitions.ts";
export { type Endpoint, proxyHeaderV1, proxyHeaderV2 } from "./proxy_protocol.ts";
export { orderSrvTargets, type SrvRecord } from "./srv.ts";
export type {
  FailureReason,
  Frame,
  FramingCodec,
  Input,
  Output,
  Phase,
  ResolvedConfig,
  Role,
  Session,
  StreamAttributes,
  TimerName,
} from "../session/mod.ts";
export { CLOSE_CODES, type CloseCode } from "../close_codes.ts";
export { STREAM_ERROR_CONDITIONS, type StreamErrorCondition } from "../stream_errors.ts";
export type { XmlElement, XmlLimits, XmlNode } from "../xml/mod.ts";
