// TLS on the node's gRPC port (clients and peers share it). A node with `tls` in its config serves
// with its certificate and key and dials its peers verifying their certificates against the
// cluster CA; without it, both sides stay plaintext (loopback clusters). Peers are not asked for
// client certificates: the port also serves SDK clients, which have none, and a peer already proves
// who it is by signing the server's challenge with its Ed25519 node key (node/net/peer-net.ts).
// TLS adds confidentiality and transport integrity, and lets dialers check they reached the host
// named in the genesis.
import * as grpc from "@grpc/grpc-js";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ArborError } from "../common/errors.js";

/** A node's `tls` config section: PEM file paths, relative to the config file. */
export interface TlsConfigFile {
  /** the node's certificate (chain), PEM */
  readonly cert: string;
  /** its private key, PEM (unencrypted) */
  readonly key: string;
  /** the CA certificate(s) peers' certificates are checked against, PEM */
  readonly ca: string;
}

/** The loaded, checked PEM contents. */
export interface NodeTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export class TlsConfigError extends ArborError {}

/**
 * Reads and checks a `tls` section: every field a path, every file readable, the certificates and
 * the key parseable PEM, and the key the certificate's.
 */
export function loadNodeTls(raw: unknown, base: string): NodeTls {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new TlsConfigError("config/bad-tls", "tls must be an object { cert, key, ca } of PEM file paths");
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r))
    if (k !== "cert" && k !== "key" && k !== "ca")
      throw new TlsConfigError("config/bad-tls", `tls has an unknown field "${k}" (cert, key, ca)`);
  for (const k of ["cert", "key", "ca"] as const)
    if (typeof r[k] !== "string" || r[k] === "")
      throw new TlsConfigError("config/bad-tls", `tls.${k} must be a PEM file path`);
  const f = r as unknown as TlsConfigFile;
  const cert = readPem(resolve(base, f.cert), "cert");
  const key = readPem(resolve(base, f.key), "key");
  const ca = readPem(resolve(base, f.ca), "ca");
  const leaf = parseCertificate(cert, f.cert, "tls.cert");
  parseCertificate(ca, f.ca, "tls.ca");
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (e) {
    throw new TlsConfigError("config/bad-tls-key", `tls.key ${f.key}: not a PEM private key (${errText(e)})`);
  }
  if (!leaf.checkPrivateKey(privateKey))
    throw new TlsConfigError(
      "config/tls-key-mismatch",
      `tls.key ${f.key} is not the key of tls.cert ${f.cert}`,
    );
  return { cert, key, ca };
}

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TlsConfigError("config/tls-unreadable", `tls.${field}: cannot read ${path} (${errText(e)})`);
  }
}

function parseCertificate(pem: Buffer, path: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new TlsConfigError(
      "config/bad-tls-cert",
      `${field} ${path}: not a PEM certificate (${errText(e)})`,
    );
  }
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The gRPC server's credentials: TLS with the node's certificate, no client certificates asked. */
export function serverCredentials(tls: NodeTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(null, [{ private_key: tls.key, cert_chain: tls.cert }], false);
}

/** Credentials for dialing peers: their certificates checked against the CA (hostname included). */
export function peerCredentials(tls: NodeTls | undefined): grpc.ChannelCredentials {
  if (tls === undefined) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca);
}
