import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  firstNameOf,
  renderTemplate,
  subjectSafe,
  type TemplateVars,
  templateVariables,
  validateTemplate,
} from '../../../src/core/campaigns/template.js';
import { refusal } from '../../helpers.js';

const vars: TemplateVars = {
  name: 'Ana Maria Silva',
  first_name: 'Ana',
  company: 'Acme & Co',
  position: 'CTO',
  email: 'ana@acme.test',
  unsubscribe_url: 'https://cb.test/u/tok?a=1&b=2',
};
const blank: TemplateVars = { ...vars, name: null, first_name: '', company: '   ', position: null };

describe('templateVariables', () => {
  it('lists the six variables', () => {
    expect(templateVariables).toEqual([
      'name',
      'first_name',
      'company',
      'position',
      'email',
      'unsubscribe_url',
    ]);
  });
});

describe('validateTemplate', () => {
  it('accepts every variable, with spaces and fallbacks', () => {
    const all = templateVariables.map((v) => `{{${v}}} {{ ${v} }} {{${v}|x y}} {{ ${v} | x }}`).join('\n');
    expect(() => validateTemplate(all, 'body')).not.toThrow();
    expect(() => validateTemplate('No variables at all. {single} braces } are fine', 'body')).not.toThrow();
    expect(() => validateTemplate('<style>@media x { a { color: red }}</style>', 'html')).not.toThrow();
  });

  it('names the field and each unknown variable once, suggesting the one meant', () => {
    const e = refusal(() => validateTemplate('Hi {{firstname}}, {{ Company }} {{foo|x}} {{foo}}', 'subject'));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toBe(
      'Unknown variables {{firstname}} (did you mean {{first_name}}?), {{Company}} (did you mean {{company}}?), ' +
        '{{foo}} in subject. Use one of: {{name}}, {{first_name}}, {{company}}, {{position}}, {{email}}, ' +
        '{{unsubscribe_url}}, optionally with a fallback like {{first_name|there}}.',
    );
    expect(e.details).toEqual({
      field: 'subject',
      unknown: ['firstname', 'Company', 'foo'],
      suggestions: { firstname: 'first_name', Company: 'company' },
    });
  });

  it('uses the singular for one unknown variable and knows common aliases', () => {
    const e = refusal(() => validateTemplate('{{ title }}', 'body'));
    expect(e.message).toMatch(
      /^Unknown variable \{\{title\}\} \(did you mean \{\{position\}\}\?\) in body\./,
    );
    expect(refusal(() => validateTemplate('{{}}', 'body')).message).toMatch(
      /^Unknown variable \{\{\}\} in body/,
    );
  });

  it('refuses a {{ that is never closed, saying where', () => {
    const e = refusal(() => validateTemplate('Hello {{first_name, welcome to {{company}}', 'body'));
    expect(e.code).toBe('invalid_input');
    expect(e.message).toContain('The body has a {{ without a closing }} near "{{first_name, welcome to"');
    expect(refusal(() => validateTemplate('Hi {{name', 'subject')).details).toEqual({
      field: 'subject',
      near: '{{name',
    });
    expect(refusal(() => validateTemplate('{{first_name|a}b}}', 'body')).message).toContain(
      'without a closing',
    );
  });

  it('refuses triple braces', () => {
    expect(refusal(() => validateTemplate('Hi {{{name}}}', 'html')).message).toContain('triple braces');
  });
});

describe('renderTemplate', () => {
  it('fills values, with or without spaces inside the braces', () => {
    const t = 'Hi {{first_name}} ({{ name }}), {{position}} at {{company}} <{{email}}> {{unsubscribe_url}}';
    expect(renderTemplate(t, vars)).toBe(
      'Hi Ana (Ana Maria Silva), CTO at Acme & Co <ana@acme.test> https://cb.test/u/tok?a=1&b=2',
    );
  });

  it('uses the fallback for a null, empty or blank value, or nothing without one', () => {
    const t = 'Hi {{first_name|there}}, {{ company | your team }}!{{position}}{{name}}';
    expect(renderTemplate(t, blank)).toBe('Hi there, your team!');
    expect(renderTemplate(t, vars)).toBe('Hi Ana, Acme & Co!CTOAna Maria Silva');
  });

  it('keeps a fallback literal: inner spaces, punctuation, $ patterns', () => {
    expect(renderTemplate('{{first_name|dear  friend, $& $1}}', blank)).toBe('dear  friend, $& $1');
    expect(renderTemplate('{{company}}', { ...vars, company: '$& $$' })).toBe('$& $$');
  });

  it('escapes inserted values and fallbacks in HTML, not the markup', () => {
    const evil: TemplateVars = { ...blank, name: `<script>alert("x")</script>`, company: null };
    const t =
      '<p title="{{company|Tom & Jerry\'s}}">Hi <b>{{name}}</b></p><a href="{{unsubscribe_url}}">x</a>';
    expect(renderTemplate(t, evil, { html: true })).toBe(
      '<p title="Tom &amp; Jerry&#39;s">Hi <b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b></p>' +
        '<a href="https://cb.test/u/tok?a=1&amp;b=2">x</a>',
    );
    expect(renderTemplate('{{name}}', evil)).toBe('<script>alert("x")</script>');
  });

  it('never throws on an unvalidated template: unknown variables render as their fallback', () => {
    expect(renderTemplate('a {{nope|b}} {{nope}} {{ c', vars)).toBe('a b  {{ c');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters', () => {
    expect(escapeHtml(`&<>"'x`)).toBe('&amp;&lt;&gt;&quot;&#39;x');
  });
});

describe('subjectSafe', () => {
  it('turns CR, LF and other control characters into single spaces and trims', () => {
    expect(subjectSafe(' Hello\r\nBcc: victim@x.test\u0000\u0085\u2028end\t ')).toBe(
      'Hello Bcc: victim@x.test end',
    );
  });

  it('caps at 250 characters without splitting an emoji', () => {
    expect(subjectSafe('a'.repeat(300))).toHaveLength(250);
    const s = subjectSafe(`${'a'.repeat(249)}😀😀`);
    expect(Array.from(s)).toHaveLength(250);
    expect(s.endsWith('😀')).toBe(true);
  });
});

describe('firstNameOf', () => {
  it.each([
    ['Ana Maria Silva', 'Ana'],
    ['  ana  ', 'ana'],
    ['Dr. Ana Silva', 'Ana'],
    ['Dr.', 'Dr.'],
    ['Silva, Ana', 'Silva'],
    ['ana@acme.test', null],
    ['', null],
    ['   ', null],
    [null, null],
  ])('%j → %j', (name, first) => {
    expect(firstNameOf(name)).toBe(first);
  });
});
