import type { AddressInfo } from 'node:net';
import { createUDPServer, Packet, type UDPServer } from 'dns2';

/** What the fake server answers for a name (and every type asked of it). */
export type Zone = {
  mx?: string[];
  a?: string[];
  aaaa?: string[];
  /** Answer with this code instead of records. */
  rcode?: 'NXDOMAIN' | 'SERVFAIL';
  /** Never answer (the client times out). */
  silent?: boolean;
};

const typeName: Record<number, string> = {
  [Packet.TYPE.MX]: 'MX',
  [Packet.TYPE.A]: 'A',
  [Packet.TYPE.AAAA]: 'AAAA',
};

/**
 * A DNS server on 127.0.0.1 (UDP, dns2) answering from a zone function: NXDOMAIN for names it
 * does not know. Records every query, and how many were being answered at once (answers wait
 * `delayMs`, or until `release()` for names held by `hold`).
 */
export class FakeDns {
  readonly queries: { name: string; type: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  /** Names whose answers wait until release(). */
  hold: (name: string) => boolean = () => false;
  private held: (() => void)[] = [];
  private server: UDPServer | undefined;
  port = 0;

  constructor(private readonly zone: (name: string) => Zone | undefined) {}

  async start(): Promise<this> {
    const server = createUDPServer((request, send) => {
      const q = request.questions[0];
      if (!q) return;
      const name = q.name.toLowerCase();
      this.queries.push({ name, type: typeName[q.type] ?? String(q.type) });
      const zone = this.zone(name) ?? { rcode: 'NXDOMAIN' };
      if (zone.silent) return;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const answer = () => {
        this.inFlight--;
        const res = Packet.createResponseFromRequest(request);
        const records: Record<number, { exchange?: string; priority?: number; address?: string }[]> = {
          [Packet.TYPE.MX]: (zone.mx ?? []).map((exchange, n) => ({ exchange, priority: 10 * (n + 1) })),
          [Packet.TYPE.A]: (zone.a ?? []).map((address) => ({ address })),
          [Packet.TYPE.AAAA]: (zone.aaaa ?? []).map((address) => ({ address })),
        };
        if (zone.rcode) res.header.rcode = Packet.RCODE[zone.rcode];
        else
          for (const r of records[q.type] ?? [])
            res.answers.push(Packet.createResourceFromQuestion(q, { ttl: 60, ...r }));
        void send(res).catch(() => {});
      };
      if (this.hold(name)) this.held.push(answer);
      else if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
    await server.listen(0, '127.0.0.1');
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** The VALIDATION_DNS_SERVERS value that points at this server. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Answers every held query. */
  release(): void {
    const held = this.held;
    this.held = [];
    for (const a of held) a();
  }

  /** Queries received per `name/type`. */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const q of this.queries) m.set(`${q.name}/${q.type}`, (m.get(`${q.name}/${q.type}`) ?? 0) + 1);
    return m;
  }

  async stop(): Promise<void> {
    this.held = [];
    const s = this.server;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
