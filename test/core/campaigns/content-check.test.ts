import { describe, expect, it } from 'vitest';
import { checkContent, maxLinks } from '../../../src/core/campaigns/content-check.js';
import { linkShorteners, spamPhrasesEn, spamPhrasesPt } from '../../../src/core/campaigns/content-lists.js';

/** A plain, personal cold e-mail: what the check should leave alone. */
const clean = {
  subject: 'Quick question about {{company | your team}}',
  body: [
    'Hi {{first_name | there}},',
    '',
    'I noticed your team is hiring engineers in Lisbon. We help companies like yours run technical',
    'interviews without taking engineers off their work for a whole week.',
    '',
    'Would a 15-minute call next Tuesday be useful? Our notes from a similar team are at',
    'https://acme.example/case/lisbon if you want to read first.',
    '',
    'Ana',
  ].join('\n'),
};

const codes = (input: Parameters<typeof checkContent>[0]) => checkContent(input).map((w) => w.code);

describe('checkContent', () => {
  it('a clean message (text, one link, normal subject, a footer with the unsubscribe link) has no warning', () => {
    expect(checkContent(clean)).toEqual([]);
    expect(
      checkContent({
        ...clean,
        html: `<p>${clean.body.replace(/\n/g, '<br>')}</p><p><a href="https://acme.example/case/lisbon">our notes</a></p>`,
        footer: 'Not interested? {{ unsubscribe_url }}',
      }),
    ).toEqual([]);
    // Portuguese, with accents, and a subject with an acronym: still clean
    expect(
      checkContent({
        subject: 'Uma pergunta sobre a TI da {{company}}',
        body: 'Olá {{first_name}}, vi que a equipe está crescendo. Faz sentido conversarmos 15 minutos na terça?',
      }),
    ).toEqual([]);
  });

  it('html without a plain-text body: no_text_part', () => {
    const w = checkContent({
      subject: 'Hello',
      body: '  ',
      html: '<p>Hello there, a short note about your hiring plans this quarter.</p>',
    });
    expect(w.map((x) => x.code)).toEqual(['no_text_part']);
    expect(w[0]?.message).toMatch(/plain-text/);
  });

  it(`more than ${maxLinks} distinct links (text or html): too_many_links; ${maxLinks} are fine`, () => {
    const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://acme.example/p${i}`).join('\n');
    expect(codes({ subject: 'Hi', body: `See:\n${urls(maxLinks)}\n${urls(maxLinks)}` })).toEqual([]);
    const w = checkContent({ subject: 'Hi', body: `See:\n${urls(maxLinks + 1)}` });
    expect(w).toEqual([{ code: 'too_many_links', message: expect.stringMatching(/^4 links: more than 3/) }]);
    const html = Array.from({ length: 5 }, (_, i) => `<a href="https://acme.example/h${i}">x</a>`).join(' ');
    expect(
      codes({ subject: 'Hi', body: 'Hello, some words here.', html: `<p>${html} ${'word '.repeat(30)}</p>` }),
    ).toEqual(['too_many_links']);
    // the unsubscribe placeholder is not counted as a link
    expect(codes({ subject: 'Hi', body: `${urls(3)}\n{{unsubscribe_url}}` })).toEqual([]);
  });

  it('a link through a shortener: link_shortener, naming it (subdomains too)', () => {
    const w = checkContent({ subject: 'Hi', body: 'Read this: https://bit.ly/3abc and www.tinyurl.com/x' });
    expect(w.map((x) => x.code)).toEqual(['link_shortener']);
    expect(w[0]?.message).toContain('bit.ly, www.tinyurl.com');
    expect(
      codes({
        subject: 'Hi',
        body: 'Hello',
        html: `<a href="https://go.rebrand.ly/x">here</a> ${'word '.repeat(30)}`,
      }),
    ).toEqual(['link_shortener']);
    expect(codes({ subject: 'Hi', body: 'https://notbit.ly.example.com/x' })).toEqual([]);
  });

  it('an html part that is images with little text: images_only', () => {
    const w = checkContent({
      subject: 'Our new catalogue',
      body: 'See the catalogue.',
      html: '<p><img src="https://acme.example/c1.png"><img src="https://acme.example/c2.png"></p><p>See below.</p>',
    });
    expect(w.map((x) => x.code)).toEqual(['images_only']);
    // one image in a real letter is fine
    expect(
      codes({ ...clean, html: `<p>${clean.body}</p><img src="https://acme.example/logo.png">` }),
    ).toEqual([]);
  });

  it('a subject in capital letters: all_caps_subject (an acronym or a short word is not)', () => {
    expect(codes({ ...clean, subject: 'QUICK QUESTION FOR YOU' })).toEqual(['all_caps_subject']);
    expect(codes({ ...clean, subject: 'PERGUNTA RÁPIDA SOBRE {{company}}' })).toEqual(['all_caps_subject']);
    expect(codes({ ...clean, subject: 'Question about your AWS bill' })).toEqual([]);
    expect(codes({ ...clean, subject: 'HI {{first_name}}' })).toEqual([]);
  });

  it('spam-trigger words in English and Portuguese, whatever the case and accents: spam_words, naming them', () => {
    const en = checkContent({
      subject: 'Limited time offer',
      body: 'Act now: it is 100% free and risk-free. Click here.',
    });
    expect(en.map((x) => x.code)).toEqual(['spam_words']);
    for (const p of ['limited time', 'act now', '100% free', 'risk-free', 'click here'])
      expect(en[0]?.message).toContain(`"${p}"`);
    const pt = checkContent({
      subject: 'Oferta imperdível',
      body: 'GRATIS para você: clique aqui e ganhe dinheiro!',
    });
    expect(pt.map((x) => x.code)).toEqual(['spam_words']);
    for (const p of ['grátis', 'clique aqui', 'ganhe dinheiro', 'oferta imperdível'])
      expect(pt[0]?.message).toContain(`"${p}"`);
    // whole words only: "freelance", "urgently-needed" parts do not match "free trial" or "urgent"
    expect(codes({ subject: 'Hi', body: 'We hire freelancers; our urgentology team says hi.' })).toEqual([]);
  });

  it('a message over 100 KB: too_large (Gmail clips at 102 KB)', () => {
    const para = 'We help teams run interviews. '.repeat(40);
    const html = `<p>${para}</p>`.repeat(90); // ~110 KB
    const w = checkContent({ subject: 'Hi', body: para, html });
    expect(w.map((x) => x.code)).toEqual(['too_large']);
    expect(w[0]?.message).toMatch(/^The message is \d+ KB: Gmail clips messages over 102 KB/);
    expect(codes({ subject: 'Hi', body: para, html: `<p>${para}</p>`.repeat(50) })).toEqual([]);
  });

  it('a custom footer without {{unsubscribe_url}}: footer_without_unsubscribe', () => {
    expect(codes({ ...clean, footer: 'Acme Ltd, Rua Exemplo 100, Lisboa' })).toEqual([
      'footer_without_unsubscribe',
    ]);
    expect(codes({ ...clean, footer: 'Acme Ltd · stop these e-mails: {{unsubscribe_url | link}}' })).toEqual(
      [],
    );
    expect(codes({ ...clean, footer: '' })).toEqual([]); // no custom footer: the default one carries the link
  });

  it('several problems at once come in a stable order', () => {
    expect(
      codes({
        subject: 'FREE TRIAL NOW',
        body: '',
        html: '<img src="https://bit.ly/x.png"><a href="https://bit.ly/a">a</a><a href="https://bit.ly/b">b</a><a href="https://bit.ly/c">c</a><a href="https://bit.ly/d">d</a>',
        footer: 'Acme',
      }),
    ).toEqual([
      'no_text_part',
      'too_many_links',
      'link_shortener',
      'images_only',
      'all_caps_subject',
      'spam_words',
      'footer_without_unsubscribe',
    ]);
  });

  it('the lists hold lower-case entries, none twice', () => {
    for (const list of [spamPhrasesEn, spamPhrasesPt, linkShorteners]) {
      expect(new Set(list).size).toBe(list.length);
      for (const x of list) expect(x).toBe(x.toLowerCase());
    }
  });
});
