/**
 * Smoke test against a real Prosody: deno/tcp.ts carries a core client session
 * (`transport: "tcp"`, RFC 6120 framing) to Prosody's c2s port. Needs
 * `scripts/install_test_deps.sh` (run by `deno task test`); they fail, never skip, without it.
 */
import { assert, assertEquals } from "@std/assert";
import {
  childElement,
  createSession,
  element,
  isElement,
  NS,
  type Output,
  type Session,
  type SessionConfig,
  step,
  textOf,
  type XmlElement,
} from "../../core/mod.ts";
import { connectTcp, type TcpConnection, type TcpTlsOptions } from "../../deno/tcp.ts";
import { startProsody } from "../_support/prosody.ts";

const HAVE_PROSODY = (() => {
  try {
    return new Deno.Command("sh", { args: ["-c", "command -v prosody"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
Deno.test("prosody is installed (scripts/install_test_deps.sh)", () => {
  if (!HAVE_PROSODY) throw new Error("prosody is not installed: run scripts/install_test_deps.sh");
});

type Notice = Exclude<
  Output,
  { type: "send-text" | "close-transport" | "set-timer" | "clear-timer" | "start-tls" }
>;

/**
 * Wires a core session to a TCP connection the way an adapter would: carries out `send-text`,
 * `close-transport` and `start-tls` (answered with `transport-secured`), leaves timers to the
 * test's own deadlines, and queues notices for {@link Driver.next}.
 */
class Driver {
  session: Session;
  tcp: TcpConnection | undefined;
  readonly notices: Notice[] = [];
  readonly tls: TcpTlsOptions;
  transportClosed = false;
  tlsError: unknown;
  #wake: (() => void) | undefined;

  constructor(config: SessionConfig, tls: TcpTlsOptions = {}) {
    this.session = createSession(config);
    this.tls = tls;
  }

  input(input: Parameters<typeof step>[1]): void {
    const { state: session, outputs } = step(this.session, input);
    this.session = session;
    for (const output of outputs) {
      switch (output.type) {
        case "send-text":
          this.tcp!.write(output.text);
          break;
        case "close-transport":
          void this.tcp!.close();
          break;
        case "start-tls":
          // Runs inside the read callback: the adapter upgrades before its next read.
          this.tcp!.startTls(this.tls).then(
            () => this.input({ type: "transport-secured", now: performance.now() }),
            (error) => this.tlsError = error,
          );
          break;
        case "set-timer":
        case "clear-timer":
          break;
        default:
          this.notices.push(output);
      }
    }
    this.#wake?.();
  }

  /** The next notice; fails after `ms`. */
  async next(ms = 5_000): Promise<Notice> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      while (this.notices.length === 0) {
        if (this.transportClosed) {
          throw new Error("the transport closed while waiting for a notice");
        }
        await new Promise<void>((resolve, reject) => {
          this.#wake = resolve;
          timer = setTimeout(() => reject(new Error(`no notice within ${ms} ms`)), ms);
        });
        clearTimeout(timer);
      }
      return this.notices.shift()!;
    } finally {
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }

  async nextElement(): Promise<XmlElement> {
    const notice = await this.next();
    assertEquals(notice.type, "element-received", JSON.stringify(notice));
    return (notice as { element: XmlElement }).element;
  }
}

async function connect(
  driver: Driver,
  port: number,
  tls?: TcpTlsOptions,
): Promise<TcpConnection> {
  driver.tcp = await connectTcp({
    hostname: "127.0.0.1",
    port,
    ...(tls ? { tls: "direct" as const, ...tls } : {}),
  }, {
    onChunk: (data) => driver.input({ type: "text-received", now: performance.now(), data }),
    onClosed: () => {
      driver.transportClosed = true;
      driver.input({ type: "transport-closed", now: performance.now() });
    },
  });
  return driver.tcp;
}

/** Sends the header, expects Prosody's header and features; returns the features. */
async function open(driver: Driver, secure: boolean): Promise<XmlElement> {
  driver.input({ type: "transport-opened", now: performance.now(), secure });
  const opened = await driver.next();
  assertEquals(opened.type, "stream-opened", JSON.stringify(opened));
  if (opened.type === "stream-opened") {
    assert(opened.id, "Prosody's header carries an id");
    assertEquals(opened.attributes.from, "localhost");
    assertEquals(opened.attributes.version, "1.0");
  }
  const features = await driver.nextElement();
  assert(isElement(features, "features", NS.STREAMS), `features expected, got <${features.name}>`);
  return features;
}

/** Closes the stream: our footer, Prosody's footer, then the TCP close. */
async function closeCleanly(driver: Driver): Promise<void> {
  driver.input({ type: "close-stream", now: performance.now() });
  assertEquals(await driver.next(), { type: "stream-closed", initiator: "local" });
  await driver.tcp!.closed;
  assertEquals(driver.session.phase, "closed");
}

function mechanisms(features: XmlElement): string[] {
  const mechs = childElement(features, "mechanisms", NS.SASL);
  return mechs
    ? mechs.children.filter((c) => typeof c !== "string").map((c) => textOf(c as XmlElement))
    : [];
}

Deno.test({
  name: "prosody smoke: header, features and a clean close over plain TCP",
  async fn() {
    await using prosody = await startProsody();
    console.log(`prosody started in ${prosody.startupMs.toFixed(0)} ms`);
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" });
    await connect(driver, prosody.c2sPort);
    const features = await open(driver, false);
    assert(childElement(features, "mechanisms", NS.SASL), "SASL is offered");
    assertEquals(childElement(features, "starttls", NS.TLS), undefined, "starttls is off");
    await closeCleanly(driver);
  },
});

Deno.test({
  name: "prosody smoke: SASL PLAIN against a directly written account, restart, bind features",
  async fn() {
    await using prosody = await startProsody({
      accounts: [{ username: "alice", password: "s3cret \u00e9" }],
    });
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" });
    await connect(driver, prosody.c2sPort);
    const features = await open(driver, false);
    assert(mechanisms(features).includes("PLAIN"), `PLAIN offered: ${mechanisms(features)}`);
    const bytes = new TextEncoder().encode("\0alice\0s3cret \u00e9");
    const auth = element("auth", NS.SASL, { mechanism: "PLAIN" }, [
      btoa(String.fromCharCode(...bytes)),
    ]);
    driver.input({ type: "send-element", now: performance.now(), element: auth });
    const success = await driver.nextElement();
    assert(isElement(success, "success", NS.SASL), `success expected, got <${success.name}>`);
    assertEquals((await driver.next()).type, "restart-required");
    driver.input({ type: "restart-stream", now: performance.now() });
    const reopened = await driver.next();
    assertEquals(reopened.type, "stream-opened");
    assert(reopened.type === "stream-opened" && reopened.restart);
    const after = await driver.nextElement();
    assert(childElement(after, "bind", NS.BIND), "bind is offered after authentication");
    assert(childElement(after, "sm", NS.SM), "XEP-0198 (mod_smacks) is offered");
    await closeCleanly(driver);
  },
});

Deno.test({
  name: "prosody smoke: a wrong password gets a SASL failure, not a stream error",
  async fn() {
    await using prosody = await startProsody({
      accounts: [{ username: "alice", password: "right" }],
    });
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" });
    await connect(driver, prosody.c2sPort);
    await open(driver, false);
    const auth = element("auth", NS.SASL, { mechanism: "PLAIN" }, [btoa("\0alice\0wrong")]);
    driver.input({ type: "send-element", now: performance.now(), element: auth });
    const failure = await driver.nextElement();
    assert(isElement(failure, "failure", NS.SASL), `failure expected, got <${failure.name}>`);
    assert(childElement(failure, "not-authorized", NS.SASL));
    await closeCleanly(driver);
  },
});

Deno.test({
  name: "prosody smoke: STARTTLS required, then a restarted stream over TLS",
  async fn() {
    await using prosody = await startProsody({ starttls: "required" });
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" }, {
      caCerts: [prosody.caCert!],
      serverName: "localhost",
    });
    const tcp = await connect(driver, prosody.c2sPort);
    const features = await open(driver, false);
    const starttls = childElement(features, "starttls", NS.TLS);
    assert(starttls !== undefined, "starttls is offered");
    assert(childElement(starttls!, "required", NS.TLS), "starttls is required");
    assertEquals(mechanisms(features), [], "nothing but STARTTLS before TLS");

    driver.input({
      type: "send-element",
      now: performance.now(),
      element: element("starttls", NS.TLS),
    });
    const proceed = await driver.nextElement();
    assert(isElement(proceed, "proceed", NS.TLS), `proceed expected, got <${proceed.name}>`);
    const reopened = await driver.next();
    assertEquals(driver.tlsError, undefined);
    assertEquals(reopened.type, "stream-opened", JSON.stringify(reopened));
    assert(reopened.type === "stream-opened" && reopened.restart, "the TLS restart is a restart");
    assert(tcp.secure && driver.session.secure);
    const after = await driver.nextElement();
    assertEquals(childElement(after, "starttls", NS.TLS), undefined, "no starttls after TLS");
    assert(mechanisms(after).includes("PLAIN"), `PLAIN offered over TLS: ${mechanisms(after)}`);
    await closeCleanly(driver);
  },
});

Deno.test({
  name: "prosody smoke: a TLS handshake against an untrusted certificate fails cleanly",
  async fn() {
    await using prosody = await startProsody({ starttls: "required" });
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" }, {
      serverName: "localhost", // the system roots do not know the test CA
    });
    const tcp = await connect(driver, prosody.c2sPort);
    await open(driver, false);
    driver.input({
      type: "send-element",
      now: performance.now(),
      element: element("starttls", NS.TLS),
    });
    assert(isElement(await driver.nextElement(), "proceed", NS.TLS));
    const failed = await driver.next();
    assertEquals(failed.type, "stream-failed", JSON.stringify(failed));
    assert(failed.type === "stream-failed" && failed.reason === "transport-lost");
    assert(driver.tlsError instanceof Error, `TLS error reported: ${driver.tlsError}`);
    await tcp.closed;
  },
});

Deno.test({
  name: "prosody smoke: direct TLS (XEP-0368) with the test CA",
  async fn() {
    await using prosody = await startProsody({ directTls: true });
    const driver = new Driver({ role: "client", transport: "tcp", to: "localhost" });
    const tcp = await connect(driver, prosody.directTlsPort!, {
      caCerts: [prosody.caCert!],
      serverName: "localhost",
    });
    assert(tcp.secure);
    const features = await open(driver, true);
    assert(childElement(features, "mechanisms", NS.SASL));
    await closeCleanly(driver);
  },
});
