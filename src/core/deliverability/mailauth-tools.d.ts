// mailauth ships no types for its tools module; the doctor uses one function of it.
declare module 'mailauth/lib/tools.js' {
  const tools: {
    /** Resolves and parses a DKIM key record; throws (with a code) when it is missing or unusable. */
    getPublicKey(
      type: 'DKIM' | 'ARC',
      name: string,
      minBitLength: number,
      resolver: import('mailauth').DNSResolver,
    ): Promise<unknown>;
  };
  export default tools;
}
