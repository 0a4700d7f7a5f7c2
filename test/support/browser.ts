import type { Page } from 'playwright-core';

/** The flags the machine's guide asks for (Debian's Chromium, driven by playwright-core); never `npx playwright install`. */
export const chromiumOptions = { executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] };

/** Every Content-Security-Policy violation a page reports, from its first script on. */
export async function watchPolicyViolations(page: Page, into: string[]): Promise<void> {
  await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))" });
  page.on('console', (message) => {
    if (message.type() === 'error' && /CSP violation|Content Security Policy/i.test(message.text())) into.push(message.text());
  });
}
