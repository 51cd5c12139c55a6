/** A configuration file or override that cannot be used. Exit code 2, as for bad command-line usage. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly where: { file?: string; section?: string; key?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(ConfigError.format(message, where), options);
  }
  private static format(message: string, w: { file?: string; section?: string; key?: string }): string {
    const at = [w.file, w.section && `[${w.section}]`, w.key].filter(Boolean).join(' ');
    return at ? `${at}: ${message}` : message;
  }
}

/** The broker could not be reached or refused an operation the service cannot run without. */
export class BrokerError extends Error {
  override readonly name: string = 'BrokerError';
}

/** The TLS handshake with the broker failed: wrong CA, a name the certificate does not cover, or no TLS there. */
export class NatsTlsError extends BrokerError {
  override readonly name = 'NatsTlsError';
}
