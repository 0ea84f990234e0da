/**
 * The audience rule as Postgres SQL: the same meaning as db/sqlite/audience-sql.ts, term for term
 * (a test keeps the two in step on the same rows). All fragments read `contacts c` joined to its
 * batch `b`.
 */

/** The `WHEN … THEN <reason>` arms of the reason a contact is not sendable, first match wins. */
export const notSendableWhens = `WHEN c.status <> 'active' THEN c.status
    WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash) THEN 'suppressed'
    WHEN c.validation IS NOT DISTINCT FROM 'no_mail_domain' AND NOT b.include_invalid_domains THEN 'no_mail_domain'
    WHEN b.status <> 'active' THEN 'batch_inactive'`;

/** The NotSendableReason, or NULL for a sendable contact. */
export const notSendableReasonSql = `CASE ${notSendableWhens} ELSE NULL END`;

/** Who may be mailed: in the active batch, status active, not suppressed, and a domain that receives mail (or included). */
export const audienceRule = `b.status = 'active' AND c.status = 'active'
    AND (c.validation IS DISTINCT FROM 'no_mail_domain' OR b.include_invalid_domains)
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash)`;

/** `FROM … WHERE <audienceRule>`: append more conditions with AND. */
export const audienceFrom = `FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE ${audienceRule}`;

/** Whether the ledger row `sends` (outer query) belongs to a contact still in the audience. */
export const sendInAudience = `EXISTS (SELECT 1 FROM contacts c JOIN batches b ON b.id = c.batch_id
    WHERE c.id = sends.contact_id AND ${audienceRule})`;
