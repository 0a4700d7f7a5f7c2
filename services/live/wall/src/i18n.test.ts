import { describe, expect, it } from 'vitest';
import { loadCatalog } from '@tower/shared';
import { ago, count, countedWords, dictionaries, formatDuration, languages, locales, shortSiteNames } from './i18n.ts';

/** Latin words allowed in the Chinese and Vietnamese texts: units, codes and proper nouns. */
const allowedLatin = new Set(['teu', 'igv', 'token', 'npm', 'start', 'km3', 'container', 'gmt']);

const units = new Set(['seconds', 'minutes']);
const words = (text: string) => text.replace(/\{\w+\}/g, '').toLowerCase().match(/\p{Script=Latin}[\p{Script=Latin}\d]*/gu) ?? [];

describe('the wall’s words', () => {
  it('has every message in Vietnamese, English and Chinese, none empty', () => {
    const keys = Object.keys(dictionaries.vi).sort();
    for (const language of languages) {
      expect(Object.keys(dictionaries[language]).sort()).toEqual(keys);
      expect(Object.values(dictionaries[language]).every((text) => text.length > 0)).toBe(true);
    }
  });

  it('has each counted word in every plural form its language uses (Intl.PluralRules)', () => {
    for (const [key, byLanguage] of Object.entries(countedWords))
      for (const language of languages) {
        // Nouns take every form of their language; unit symbols ("s", "min") may have only `other`.
        const forms = Object.keys(byLanguage[language]).sort();
        const categories = new Intl.PluralRules(locales[language]).resolvedOptions().pluralCategories.slice().sort();
        if (units.has(key)) expect(forms.every((form) => categories.includes(form as Intl.LDMLPluralRule)) && forms.includes('other'), `${key} in ${language}`).toBe(true);
        else expect(forms, `${key} in ${language}`).toEqual(categories);
        expect(Object.values(byLanguage[language]).every((form) => form.includes('{n}'))).toBe(true);
      }
    expect(count('trucksPerHour', 1, 'en')).toBe('1 truck/h');
    expect(count('trucksPerHour', 2, 'en')).toBe('2 trucks/h');
    expect(count('trucksPerHour', 0, 'en')).toBe('0 trucks/h');
    expect(count('trucksPerHour', 1, 'vi')).toBe('1 xe/giờ');
    expect(count('moreAlerts', 1, 'en')).toBe('+1 more');
    expect(count('seconds', 1, 'en', 1)).toBe('1 s');
  });

  it('writes durations with each language’s unit', () => {
    expect(formatDuration(12_300, 'vi')).toBe('12,3 giây');
    expect(formatDuration(12_300, 'en')).toBe('12.3 s');
    expect(formatDuration(12_300, 'zh')).toBe('12.3秒');
    expect(formatDuration(180_000, 'vi')).toBe('3 phút');
    expect(formatDuration(180_000, 'zh')).toBe('3分钟');
    expect(formatDuration(null, 'zh')).toBe('—');
  });

  it('says how long ago an alert was raised in each language: seconds, minutes, hours, days, in whole units and the right plural', () => {
    const second = 1000;
    const cases: [number, string, string, string][] = [
      [0, '0 giây trước', '0 seconds ago', '0秒钟前'],
      [1 * second, '1 giây trước', '1 second ago', '1秒钟前'],
      [59_900, '59 giây trước', '59 seconds ago', '59秒钟前'],
      [60 * second, '1 phút trước', '1 minute ago', '1分钟前'],
      [4 * 60 * second + 59 * second, '4 phút trước', '4 minutes ago', '4分钟前'],
      [3600 * second, '1 giờ trước', '1 hour ago', '1小时前'],
      [2 * 3600 * second + 59 * 60 * second, '2 giờ trước', '2 hours ago', '2小时前'],
      [26 * 3600 * second, '1 ngày trước', '1 day ago', '1天前'],
    ];
    for (const [ms, vi, en, zh] of cases) expect([ago(ms, 'vi'), ago(ms, 'en'), ago(ms, 'zh')], `${ms} ms`).toEqual([vi, en, zh]);
    expect(ago(-5 * second, 'en'), 'a clock a little behind the gateway: not in the future').toBe('0 seconds ago');
  });

  it('leaves no English in Vietnamese or Chinese, no stray spaces in Chinese, and no p50/p95 jargon', () => {
    // English words: ASCII ones of three letters or more (the diacritics of Móng Cái mark a Vietnamese name).
    const english = new Set(Object.values(dictionaries.en).flatMap(words).filter((word) => /^[a-z]{3,}$/.test(word) && !allowedLatin.has(word)));
    for (const language of ['vi', 'zh'] as const) {
      const texts = [...Object.values(dictionaries[language]), ...Object.values(countedWords).flatMap((forms) => Object.values(forms[language]))];
      const left = texts.flatMap(words).filter((word) => english.has(word));
      expect(left, `English words in ${language}`).toEqual([]);
    }
    const zh = [...Object.values(dictionaries.zh), ...Object.values(countedWords).flatMap((forms) => Object.values(forms.zh))];
    expect(zh.flatMap((text) => words(text)).filter((word) => !allowedLatin.has(word)), 'Latin words in Chinese').toEqual([]);
    // A space in Chinese only between two Latin words ("npm start"), never beside a Chinese character or a digit.
    expect(zh.filter((text) => /[^\p{Script=Latin}] | [^\p{Script=Latin}]/u.test(text))).toEqual([]);
    expect(dictionaries.zh.subtitle).toBe('芒街–东兴口岸');
    for (const language of languages) expect(Object.values(dictionaries[language]).filter((text) => /\bp\d{2}\b/i.test(text))).toEqual([]);
  });

  it('has a short name for every site of the catalog in every language', () => {
    for (const site of loadCatalog().document.sites) for (const language of languages) expect(shortSiteNames[site.id]?.[language], `${site.id} ${language}`).toBeTruthy();
  });
});
