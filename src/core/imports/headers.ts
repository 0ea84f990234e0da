/** Which column of a header row holds each contact field. Index lists are in priority order. */
export type ColumnMap = {
  email: number[];
  fullName: number[];
  firstName: number[];
  middleName: number[];
  lastName: number[];
  company: number[];
  position: number[];
  source: number[];
};

/** Case-, accent-, space- and punctuation-insensitive form of a header cell. */
export function normalizeHeader(cell: string): string {
  // Printable ASCII has no accents to strip (headers of 100,000 columns are mostly that).
  if (/^[ -~]*$/.test(cell)) return cell.toLowerCase().replace(/[^a-z0-9]/g, '');
  return cell
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

// Aliases (normalized) in priority order: the first present wins, later ones are fallbacks.
const emailAliases = [
  'email',
  'emailaddress',
  'email1value',
  'email1',
  'emailaddress1',
  'primaryemail',
  'workemail',
  'businessemail',
  'correioeletronico',
  'enderecodeemail',
  'enderecoemail',
  'emailprincipal',
  'emailcorporativo',
  'emailcomercial',
  'emailprofissional',
  'emailpessoal',
  'personalemail',
  'mail',
  'email2value',
  'email2address',
  'emailaddress2',
  'email2',
  'email3value',
  'email3address',
  'email3',
  'email4value',
  'otheremail',
  'secondaryemail',
];
const fullNameAliases = ['name', 'fullname', 'nomecompleto', 'contactname', 'displayname', 'nome'];
const firstNameAliases = ['firstname', 'givenname', 'primeironome', 'prenome', 'nome'];
const middleNameAliases = ['middlename', 'additionalname', 'nomedomeio'];
const lastNameAliases = ['lastname', 'familyname', 'surname', 'sobrenome', 'ultimonome', 'apelido'];
const companyAliases = [
  'company',
  'companyname',
  'organization',
  'organisation',
  'organizationname',
  'organization1name',
  'empresa',
  'organizacao',
  'nomedaempresa',
  'associatedcompany',
  'accountname',
  'account',
  'companynameforemails',
];
const positionAliases = [
  'jobtitle',
  'position',
  'cargo',
  'funcao',
  'role',
  'organizationtitle',
  'organization1title',
  'occupation',
  'profissao',
  'title',
];
const sourceAliases = ['source', 'origem', 'leadsource', 'fonte'];

/** Mailchimp's exports of people who opted out or bounced: never leads. */
const optedOutMarkers = ['unsubtime', 'unsubreason', 'cleantime', 'cleancampaignid'];

/** The columns of each normalized header name, in column order. */
type HeaderIndex = Map<string, number[]>;

function indexHeader(cells: string[]): HeaderIndex {
  const index: HeaderIndex = new Map();
  cells.forEach((cell, i) => {
    const h = normalizeHeader(cell);
    const at = index.get(h);
    if (at) at.push(i);
    else index.set(h, [i]);
  });
  return index;
}

function indexesOf(index: HeaderIndex, aliases: string[]): number[] {
  const out: number[] = [];
  for (const alias of aliases) {
    for (const i of index.get(alias) ?? []) if (!out.includes(i)) out.push(i);
  }
  return out;
}

/** Maps a header row to contact fields; null when it has no e-mail column. */
export function mapHeader(cells: string[]): ColumnMap | null {
  const n = indexHeader(cells);
  const email = indexesOf(n, emailAliases);
  if (email.length === 0) return null;
  const hasPortugueseLast = n.has('sobrenome');
  // "Nome" alone is a full name; beside "Sobrenome" it is the first name.
  const fullName = indexesOf(
    n,
    fullNameAliases.filter((a) => !(a === 'nome' && hasPortugueseLast)),
  );
  const firstName = indexesOf(
    n,
    firstNameAliases.filter((a) => a !== 'nome' || hasPortugueseLast),
  );
  const company = indexesOf(n, companyAliases);
  const position = indexesOf(n, positionAliases);
  return {
    email,
    fullName,
    firstName,
    middleName: indexesOf(n, middleNameAliases),
    lastName: indexesOf(n, lastNameAliases),
    company: company.slice(0, 1),
    position: position.slice(0, 1),
    source: indexesOf(n, sourceAliases).slice(0, 1),
  };
}

/** True for Mailchimp's unsubscribed/cleaned exports, which must not be imported as leads. */
export function isOptedOutExport(cells: string[]): boolean {
  const n = indexHeader(cells);
  return optedOutMarkers.some((m) => n.has(m));
}
