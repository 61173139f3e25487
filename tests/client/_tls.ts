/**
 * Test support: a throwaway CA and a server certificate for `localhost` and 127.0.0.1 (EC
 * P-256, made with `openssl` in a temporary folder that is removed at once).
 *
 * @module
 */

/** PEM texts of a test CA and of a leaf certificate signed by it. */
export interface TestCertificates {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Creates the certificates. */
export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "xmpp-client-tls-" });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await Deno.writeTextFile(
      `${dir}/leaf.ext`,
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" +
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    );
    // deno-fmt-ignore
    await openssl([
      "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
      "-subj", "/CN=xmpp-websocket client test CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ], dir);
    await openssl([
      "req",
      ...ec,
      "-keyout",
      "leaf.key",
      "-out",
      "leaf.csr",
      "-subj",
      "/CN=localhost",
    ], dir);
    // deno-fmt-ignore
    await openssl([
      "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem",
    ], dir);
    const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
    return { ca: await read("ca.pem"), cert: await read("leaf.pem"), key: await read("leaf.key") };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
