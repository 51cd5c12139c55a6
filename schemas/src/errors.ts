/** A subject token, stream name or node id that cannot be used on the wire. */
export class ContractError extends Error {
  override readonly name = 'ContractError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
