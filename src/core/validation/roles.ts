/**
 * Local parts that name a function or a mailbox shared by a team rather than a person (RFC 2142's
 * mailbox names and the usual sales, support and no-reply boxes), in English and Portuguese.
 * Compared after lower-casing, dropping a `+tag` and removing `.`, `-` and `_`, so `no-reply`,
 * `no_reply` and `No.Reply+x` all match `noreply`.
 */
export const roleLocalParts: ReadonlySet<string> = new Set([
  // RFC 2142 and system mailboxes
  'abuse',
  'admin',
  'administrator',
  'hostmaster',
  'mailerdaemon',
  'noc',
  'postmaster',
  'root',
  'security',
  'usenet',
  'uucp',
  'webmaster',
  'www',
  // no-reply
  'donotreply',
  'noreply',
  'noresponder',
  'naoresponda',
  'bounce',
  'bounces',
  // functions and teams
  'accounting',
  'accounts',
  'billing',
  'careers',
  'compliance',
  'contact',
  'contactus',
  'customercare',
  'customerservice',
  'customersupport',
  'enquiries',
  'enquiry',
  'feedback',
  'finance',
  'hello',
  'help',
  'helpdesk',
  'hr',
  'info',
  'information',
  'inquiries',
  'inquiry',
  'invoice',
  'invoices',
  'jobs',
  'legal',
  'mail',
  'marketing',
  'media',
  'news',
  'newsletter',
  'office',
  'orders',
  'partners',
  'payments',
  'press',
  'privacy',
  'purchasing',
  'recruiting',
  'recruitment',
  'reservations',
  'sales',
  'service',
  'services',
  'shop',
  'staff',
  'support',
  'team',
  // Portuguese (Brazilian lists)
  'administrativo',
  'atendimento',
  'comercial',
  'compras',
  'contato',
  'contatos',
  'diretoria',
  'faleconosco',
  'financeiro',
  'juridico',
  'ouvidoria',
  'recepcao',
  'rh',
  'sac',
  'secretaria',
  'suporte',
  'vendas',
]);

/** The form a local part is compared in: lower-case, without `+tag`, `.`, `-` or `_`. */
export function roleKey(localPart: string): string {
  const plus = localPart.indexOf('+');
  return (plus === -1 ? localPart : localPart.slice(0, plus)).toLowerCase().replace(/[._-]/g, '');
}

/** True when the local part names a role or a shared mailbox (info@, sales@, noreply@…). */
export function isRoleAddress(localPart: string): boolean {
  return roleLocalParts.has(roleKey(localPart));
}
