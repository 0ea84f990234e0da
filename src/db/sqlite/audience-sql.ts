/**
 * The audience rule as SQL, defined once: every query that asks "who may be mailed now" (the
 * audience count and summary, a campaign's remaining figure and re-queue, the send ledger's claims)
 * is built from these fragments. All of them read `contacts c` joined to its batch `b`.
 */

/** The `WHEN … THEN <reason>` arms of the reason a contact is not sendable, first match wins. */
export const notSendableWhens = `WHEN c.status <> 'active' THEN c.status
    WHEN EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash) THEN 'suppressed'
    WHEN c.validation IS 'no_mail_domain' AND b.include_invalid_domains = 0 THEN 'no_mail_domain'
    WHEN b.status <> 'active' THEN 'batch_inactive'`;

/** The NotSendableReason, or NULL for a sendable contact. */
export const notSendableReasonSql = `CASE ${notSendableWhens} ELSE NULL END`;

/**
 * Who may be mailed: in the active batch, status active, not suppressed, and not found by
 * validation to have a domain that cannot receive mail (unless an admin included those for the
 * batch). `notSendableReasonSql` is NULL exactly when it holds (a test keeps them in step).
 */
export const audienceRule = `b.status = 'active' AND c.status = 'active'
    AND (c.validation IS NOT 'no_mail_domain' OR b.include_invalid_domains = 1)
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.email_hash = c.email_hash)`;

/** `FROM … WHERE <audienceRule>`: append more conditions with AND. */
export const audienceFrom = `FROM contacts c JOIN batches b ON b.id = c.batch_id WHERE ${audienceRule}`;

/** Whether the ledger row `sends` (outer query) belongs to a contact still in the audience. */
export const sendInAudience = `EXISTS (SELECT 1 FROM contacts c JOIN batches b ON b.id = c.batch_id
    WHERE c.id = sends.contact_id AND ${audienceRule})`;
