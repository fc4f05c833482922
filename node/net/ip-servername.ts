// grpc-js hands the host of a TLS target to Node as the TLS server name even when it is an IP
// address (genesis addresses like 127.0.0.1:7400), and Node then prints a DeprecationWarning
// (DEP0123: SNI carries host names only) once per process. The certificate is still checked
// against the IP address (a SAN of every certificate `arbor init --tls` issues), so for the
// `arbor` command and its nodes that line is noise in logs and health checks; this drops that one
// warning and passes every other on. The SDK does not install it: an application decides.
let installed = false;

export function quietIpServernameWarning(): void {
  if (installed) return;
  installed = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const [, type, code] = args;
    const c = typeof type === "object" && type !== null ? (type as { code?: unknown }).code : code;
    if (c === "DEP0123") return;
    emit(...args);
  }) as typeof process.emitWarning;
}
