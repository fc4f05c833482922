// `arbor init --tls`: a cluster CA and one certificate per node, made with the `openssl` command
// (Node has no API that issues X.509 certificates). Every node certificate names the host of the
// node's genesis address (and localhost, 127.0.0.1, for probes on the node's own machine) as
// subject alternative names, so peers and clients dialing that address verify it. Keys are P-256,
// written mode 0600. The CA key stays in the cluster directory: move it offline once the
// certificates are issued (docs/operations.md).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { ArborError } from "../common/errors.js";

export class TlsCertError extends ArborError {}

/** Where the TLS files are, relative to the cluster directory. */
export const TLS_DIR = "tls";
export const CA_CERT = `${TLS_DIR}/ca.pem`;
export const CA_KEY = `${TLS_DIR}/ca.key`;
export const nodeCert = (id: number) => `${TLS_DIR}/node${id}.pem`;
export const nodeKey = (id: number) => `${TLS_DIR}/node${id}.key`;

/** Days a certificate is valid: the CA ten years, node certificates 825 days (the usual maximum). */
const CA_DAYS = 3650;
const NODE_DAYS = 825;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT")
    throw new TlsCertError(
      "init/no-openssl",
      "--tls needs the `openssl` command to issue certificates (Debian: apt-get install openssl)",
    );
  if (r.status !== 0)
    throw new TlsCertError(
      "init/openssl-failed",
      `openssl ${args[0]} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`,
    );
}

/** The subject alternative names for a node reached at `host`: it, localhost and 127.0.0.1. */
export function subjectAltNames(host: string): string {
  const names = new Set([`DNS:localhost`, `IP:127.0.0.1`]);
  names.add(isIP(host) ? `IP:${host}` : `DNS:${host}`);
  return [...names].join(",");
}

/**
 * Writes the CA (tls/ca.pem, tls/ca.key) and, for node i reached at hosts[i], tls/node<i>.pem and
 * tls/node<i>.key into `dir`.
 */
export function issueClusterCerts(dir: string, name: string, hosts: readonly string[]): void {
  const tlsDir = join(dir, TLS_DIR);
  mkdirSync(tlsDir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(CA_DAYS),
      "-subj",
      `/CN=Arbor ${name} cluster CA`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    tlsDir,
  );
  chmodSync(join(tlsDir, "ca.key"), 0o600);
  hosts.forEach((host, id) => issueNodeCert(dir, id, host));
}

/**
 * Issues node `id`'s certificate for `host` (tls/node<id>.pem and .key) with the cluster CA in
 * `dir` (tls/ca.pem and tls/ca.key): for `arbor init --tls`, and for a node `arbor member add` adds.
 */
export function issueNodeCert(dir: string, id: number, host: string): void {
  const tlsDir = join(dir, TLS_DIR);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const ext = `node${id}.ext`;
  writeFileSync(
    join(tlsDir, ext),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
      `subjectAltName=${subjectAltNames(host)}`,
      "",
    ].join("\n"),
  );
  try {
    openssl(
      ["req", ...ec, "-keyout", `node${id}.key`, "-out", `node${id}.csr`, "-subj", `/CN=${host}`],
      tlsDir,
    );
    chmodSync(join(tlsDir, `node${id}.key`), 0o600);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `node${id}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-set_serial",
        `0x${Date.now().toString(16)}${id.toString(16).padStart(4, "0")}`,
        "-days",
        String(NODE_DAYS),
        "-extfile",
        ext,
        "-out",
        `node${id}.pem`,
      ],
      tlsDir,
    );
  } finally {
    rmSync(join(tlsDir, ext), { force: true });
    rmSync(join(tlsDir, `node${id}.csr`), { force: true });
  }
}
