/** The languages of the built pages (the wall, the booking page): Vietnamese first (the default), English, Chinese (the Đông Hưng side). */
export const languages = ['vi', 'en', 'zh'] as const;
export type Language = (typeof languages)[number];

/** The locale each language formats numbers and dates in. */
export const locales: Readonly<Record<Language, string>> = { vi: 'vi-VN', en: 'en-GB', zh: 'zh-CN' };

export function isLanguage(value: string | null | undefined): value is Language {
  return (languages as readonly string[]).includes(value ?? '');
}
