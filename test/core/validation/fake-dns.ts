import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { type Answer, decode, encode, RECURSION_AVAILABLE, RECURSION_DESIRED } from 'dns-packet';

/** What the fake server answers for a name (and every type asked of it). */
export type Zone = {
  mx?: string[];
  a?: string[];
  aaaa?: string[];
  /** TXT records (SPF, DKIM, DMARC), each given whole: split into 255-byte strings on the wire. */
  txt?: string[];
  /** Answer with this code instead of records. */
  rcode?: 'NXDOMAIN' | 'SERVFAIL';
  /** Never answer (the client times out). */
  silent?: boolean;
};

/** RFC 1035 §4.1.1 response codes, carried in the low four bits of the header's flags. */
const rcodes = { NXDOMAIN: 3, SERVFAIL: 2 } as const;

/** The records of `zone` for one question type. */
function records(name: string, type: string, zone: Zone): Answer[] {
  const base = { name, ttl: 60 };
  if (type === 'MX')
    return (zone.mx ?? []).map((exchange, n) => ({
      ...base,
      type: 'MX',
      data: { exchange, preference: 10 * (n + 1) },
    }));
  if (type === 'A') return (zone.a ?? []).map((data) => ({ ...base, type: 'A', data }));
  if (type === 'AAAA') return (zone.aaaa ?? []).map((data) => ({ ...base, type: 'AAAA', data }));
  if (type === 'TXT')
    return (zone.txt ?? []).map((text) => ({
      ...base,
      type: 'TXT',
      data: text.match(/[\s\S]{1,255}/g) ?? [''],
    }));
  return [];
}

/**
 * A DNS server on 127.0.0.1 (UDP, node:dgram with dns-packet) answering from a zone function:
 * NXDOMAIN for names it does not know. Records every query, and how many were being answered at
 * once (answers wait `delayMs`, or until `release()` for names held by `hold`).
 */
export class FakeDns {
  readonly queries: { name: string; type: string }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  /** Names whose answers wait until release(). */
  hold: (name: string) => boolean = () => false;
  private held: (() => void)[] = [];
  private socket: Socket | undefined;
  port = 0;

  constructor(private readonly zone: (name: string) => Zone | undefined) {}

  async start(): Promise<this> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, from) => this.onQuery(socket, msg, from));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A late answer to a client that has gone is nobody's concern.
    socket.on('error', () => {});
    this.socket = socket;
    this.port = (socket.address() as AddressInfo).port;
    return this;
  }

  private onQuery(socket: Socket, msg: Buffer, from: { port: number; address: string }): void {
    let request: ReturnType<typeof decode>;
    try {
      request = decode(msg);
    } catch {
      return; // not DNS: ignore, as a server would
    }
    const q = request.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    this.queries.push({ name, type: q.type });
    const zone = this.zone(name) ?? { rcode: 'NXDOMAIN' };
    if (zone.silent) return;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const answer = () => {
      this.inFlight--;
      if (this.socket !== socket) return; // stopped meanwhile
      const response = encode({
        type: 'response',
        id: request.id,
        flags:
          ((request.flags ?? 0) & RECURSION_DESIRED) |
          RECURSION_AVAILABLE |
          (zone.rcode ? rcodes[zone.rcode] : 0),
        questions: [q],
        answers: zone.rcode ? [] : records(q.name, q.type, zone),
      });
      socket.send(response, from.port, from.address, () => {});
    };
    if (this.hold(name)) this.held.push(answer);
    else if (this.delayMs > 0) setTimeout(answer, this.delayMs);
    else answer();
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
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
