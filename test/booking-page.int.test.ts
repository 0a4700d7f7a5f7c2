/**
 * The dispatchers' booking page in headless Chromium (Debian's, driven by playwright-core)
 * on the real slots service (Redis, Kafka, ClickHouse), which also serves the page, and the
 * live gateway on another origin, fed from the slots topic: sign in, the free places, a
 * truck, hold with the countdown, confirm, cancel, an operator's cancel pushed to the page
 * over the gateway's socket, a refusal in the dispatcher's words, a webhook endpoint
 * registered with a real receiver (its secret once, a delivery in the log, replayed), the
 * language switch, phones and their jump bar; every glyph in the page's own fonts, no CSP
 * violation. Then the page without the gateway, polling.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import { builtPagePolicy, gateConditionsKey, loadCatalog, vietnamIso, type GateConditions } from '@tower/shared';
import { eventually, test, uniqueName } from '@tower/shared/testing';
import { migrate } from '../services/aggregator/src/test-support.ts';
import { slotFeed } from '../services/live/src/gateway/broadcast-feed.ts';
import { LiveHub } from '../services/live/src/gateway/hub.ts';
import { startLive } from '../services/live/src/test-support.ts';
import { bookingPageDirectory } from '../services/slots/src/page.ts';
import { bearer, startSlots, testAccess, testKeys } from '../services/slots/src/test-support.ts';
import { chromiumOptions, watchPolicyViolations } from './support/browser.ts';
import { freePort } from './support/service-processes.ts';
import { textInMachineFonts } from './support/web-fonts.ts';

const screenshots = path.resolve(import.meta.dirname, '../.local/test');
const dayMs = 86_400_000;

/** Waits on the page's state with a deadline generous for a busy machine (expect.poll's own is 1 s). */
const poll = <T>(value: () => T | Promise<T>, options: { message?: string; timeout?: number } = {}) => expect.poll(value, { timeout: 30_000, ...options });

/** Every glyph on screen drawn by a font the page ships (a phone may have no Chinese font), waited for while slices load. */
const inShippedFonts = (page: Page, where: string) => expect.poll(() => textInMachineFonts(page), { timeout: 30_000, message: `text drawn in the machine's fonts ${where}` }).toEqual([]);

/** Nothing wider than the screen (a phone must never scroll sideways): what sticks out of it, run in the page. */
const overflow = (page: Page) =>
  page.evaluate<{ scrollWidth: number; width: number; out: string[] }>(`(() => {
    const width = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('main *')].filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > width + 1).map((e) => e.tagName.toLowerCase() + '.' + e.className);
    return { scrollWidth: document.documentElement.scrollWidth, width, out };
  })()`);

async function signIn(page: Page, key: string): Promise<void> {
  await page.locator('#signin-key').fill(key);
  await page.locator('#signin-key').press('Enter');
  await poll(() => page.locator('#desk').isVisible()).toBe(true);
}

/** Shows the day and the Bắc Luân II smart export lanes, and waits for the window to be drawn. */
async function showWindow(page: Page, date: string, windowStart: string): Promise<void> {
  await page.locator('#site').selectOption('bac-luan-2');
  await page.locator(`[data-focus="day-${date}"]`).click();
  await poll(() => page.locator('#group option[value="smart|export"]').count()).toBe(1);
  await page.locator('#group').selectOption('smart|export');
  await poll(() => page.locator(`.window[data-start="${windowStart}"]`).count()).toBe(1);
}

describe('the dispatchers’ booking page', () => {
  test('a dispatcher signs in with the firm’s key, books, confirms before the countdown ends, cancels, sees an operator’s cancel live and a refusal in words, in Vietnamese and Chinese, on a laptop and a phone', { timeout: 300_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    expect(fs.existsSync(path.join(bookingPageDirectory, 'index.html')), 'the page is built by infra/local/bootstrap.sh').toBe(true);
    const built = fs.readFileSync(path.join(bookingPageDirectory, 'index.html'), 'utf8');
    expect(built.match(/<script\b(?![^>]*\bsrc=)[^>]*>/g), 'no inline script (the CSP has no unsafe-inline)').toBeNull();
    expect(built.match(/\sstyle=|<style\b/g), 'no inline style').toBeNull();
    fs.mkdirSync(screenshots, { recursive: true });

    await migrate(clickhouse.settings);
    const topics = { slots: await createTopic({ partitions: 1 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    // The page's origin is the slots service's: the gateway must allow it, and the page must be told the gateway's address.
    const slotsPort = await freePort();
    const origin = `http://127.0.0.1:${slotsPort}`;
    const hub = new LiveHub(uniqueName('page'), { resumeBufferDeltas: 1000, idleStreamMs: 60_000, boardHorizonMs: 3_600_000 });
    const live = await startLive({ logger, clickhouse: clickhouse.client, redis: redis.redis, kafka, hub, access: testAccess }, { allowedOrigins: [origin] });
    const feed = slotFeed(kafka, topics.slots, uniqueName('page-slots'), hub, live.slotBoard, logger);
    await live.app.listen({ port: 0, host: '127.0.0.1' });
    await feed.start();
    await eventually(async () => (feed.ready ? true : undefined), { timeoutMs: 30_000, what: 'the slot feed in its group' });
    const liveUrl = `ws://127.0.0.1:${(live.app.server.address() as { port: number }).port}/v1/live`;
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { liveUrl });
    await slots.history.start();
    await slots.http.listen({ port: slotsPort, host: '127.0.0.1' });
    // The firm's own system, receiving its webhooks (the test's slots service sends to http://127.0.0.1).
    const received: { event: string; body: string }[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ event: String(request.headers['tower-webhook-id'] ?? ''), body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/tower-hook`;
    for (const part of slots.webhooks.parts) await part.start();
    await eventually(async () => (slots.webhooks.consumer.health().reading ? true : undefined), { timeoutMs: 60_000, what: 'the webhook consumer reading' });
    // The gate's conditions as the live service keeps them in Redis for the slots service: Bắc Luân II's smart export lanes busy.
    const asOf = Date.now();
    const bacLuan2 = loadCatalog().site('bac-luan-2')!;
    const conditions: GateConditions = {
      asOf,
      asOfIso: vietnamIso(asOf),
      thresholds: { busyWaitMinutes: 20, congestedWaitMinutes: 45, busyQueueVehicles: 10, congestedQueueVehicles: 20, minTrucksPerHour: 6 },
      groups: [{ site: 'bac-luan-2', laneKind: 'smart', direction: 'export', siteNames: bacLuan2.names, names: { vi: 'Làn chuyên dụng thông minh xuất khẩu', en: 'Smart dedicated lane, export', zh: '出口智能专用通道' }, trucksQueuing: 12, lanesOpen: 2, lanesTotal: 3, throughputPerHour: 30, expectedWaitMinutes: 25, waitUnknownReason: null, level: 'busy', nextWindows: [], asOf, asOfIso: vietnamIso(asOf) }],
    };
    await redis.redis.set(gateConditionsKey, JSON.stringify(conditions), 'PX', 600_000);
    const api = (method: 'GET' | 'DELETE' | 'PUT', url: string, key: string, payload?: object) => slots.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
    const hasFleet = (await api('GET', '/v1/fleet/trucks', testKeys.haiha)).statusCode !== 404;

    // Tomorrow in Vietnam: its windows are well before the cancel cut-off (2 hours) whatever the hour the test runs at.
    const tomorrow = new Date(Math.floor((Date.now() + 7 * 3_600_000) / dayMs) * dayMs + dayMs).toISOString().slice(0, 10);
    const at = (time: string) => `${tomorrow}T${time}:00+07:00`;
    const browser = await chromium.launch(chromiumOptions);
    try {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      const violations: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await watchPolicyViolations(page, violations);
      // The bookings as the gateway pushes them to the page.
      const pushed: { id: string; state: string }[] = [];
      page.on('websocket', (socket) =>
        socket.on('framereceived', ({ payload }) => {
          const message = typeof payload === 'string' ? (JSON.parse(payload) as { type?: string; data?: { id?: unknown; state?: unknown } }) : undefined;
          if (message?.type === 'delta' && typeof message.data?.id === 'string' && typeof message.data.state === 'string') pushed.push({ id: message.data.id, state: message.data.state });
        }),
      );

      const served = await page.goto(`${origin}/`);
      expect(served?.headers()['content-security-policy'], 'the page runs under a strict CSP, reaching the gateway and nothing else').toBe(builtPagePolicy([new URL(liveUrl).origin]));
      await poll(() => page.locator('#signin').isVisible()).toBe(true);
      expect(await page.locator('h1').textContent()).toBe('Đặt lịch qua cửa khẩu');

      // A wrong key is refused in words; the firm's key signs in, and stays out of the address bar.
      await page.locator('#signin-key').fill('haiha-key.not-the-secret-at-all');
      await page.locator('#signin-key').press('Enter');
      await poll(() => page.locator('#signin-error').textContent()).toContain('Khoá không đúng hoặc đã bị thu hồi');
      await signIn(page, testKeys.haiha);
      expect(await page.locator('#firm-name').textContent()).toBe('haiha-logistics');
      await poll(() => page.locator('#live').getAttribute('data-state'), { message: 'the bookings followed on the gateway’s socket' }).toBe('live');
      expect(page.url()).not.toContain('secret');
      expect(await page.evaluate<string | null>("sessionStorage.getItem('tower.booking.key')")).toBe(testKeys.haiha);
      await poll(() => page.locator('#record [data-figure="record.cap"] dd').textContent()).toBe('10');
      await poll(() => page.locator('#conditions li.condition[data-level="busy"]').textContent()).toBe('Làn chuyên dụng thông minh xuất khẩuCầu Bắc Luân II – Khu logistics Bắc Luân IIĐông xeXe đang chờ12Chờ dự kiến25 phútLàn mở2/3');

      // The fleet: a truck registered on the page is the one the picker offers (typed when the service has no fleet).
      const plate = '14C-271.01';
      if (hasFleet) {
        await page.locator('#fleet-plate').fill(plate);
        await page.locator('#fleet-country').selectOption('VN');
        await page.locator('#fleet-form button[type="submit"]').click();
        await poll(() => page.locator(`#fleet-list li[data-plate="${plate}"]`).count()).toBe(1);
      } else {
        await poll(() => page.locator('#fleet-list').textContent()).toContain('Đội xe chưa dùng được');
      }
      const pickTruck = async (p: Page) => (hasFleet ? p.locator('#truck').selectOption(plate) : p.locator('#plate').fill(plate));

      // Book with the keyboard: the window, the truck, hold; the hold counts down; confirm.
      await showWindow(page, tomorrow, at('10:00'));
      const first = page.locator(`.window[data-start="${at('10:00')}"]`);
      const freeBefore = Number(await first.locator('.places').textContent());
      expect(freeBefore).toBeGreaterThan(0);
      await first.focus();
      await page.keyboard.press('Enter');
      await poll(() => page.locator('#booking').isVisible()).toBe(true);
      expect(await page.locator('#chosen-window').textContent()).toContain('10:00–10:30');
      await pickTruck(page);
      await page.locator('#hold').press('Enter');
      await poll(() => page.locator('#hold-panel').isVisible()).toBe(true);
      const shown = await page.locator('#countdown').textContent();
      expect(shown).toMatch(/^còn [0-5]:\d\d$/);
      await poll(() => page.locator('#countdown').textContent(), { message: 'the countdown moves' }).not.toBe(shown);
      await poll(() => page.locator(`.window[data-start="${at('10:00')}"] .places`).textContent(), { message: 'the held place is taken from the free ones' }).toBe(String(freeBefore - 1));
      await page.screenshot({ path: path.join(screenshots, 'booking-page-vi-1366x768-hold.png') });
      await inShippedFonts(page, 'with a hold and its countdown on screen');
      await page.locator('#confirm').click();
      await poll(() => page.locator('#booking-message').textContent()).toMatch(/^Đã xác nhận: 14C-271\.01, /);
      expect(await page.locator('#hold-panel').isVisible(), 'the hold and its countdown gone once confirmed').toBe(false);
      const firstItem = page.locator('li.booking', { has: page.locator('.plate', { hasText: plate }) });
      await poll(() => firstItem.getAttribute('data-state')).toBe('confirmed');
      const firstId = (await firstItem.getAttribute('data-id'))!;

      // A second booking of the truck, held and confirmed by mouse; the operator then cancels it: the page shows it without a reload.
      await page.locator(`.window[data-start="${at('11:00')}"]`).click();
      await pickTruck(page);
      await page.locator('#hold').click();
      await poll(() => page.locator('#hold-panel').isVisible()).toBe(true);
      await page.locator('#confirm').click();
      await poll(() => page.locator('li.booking').count()).toBe(2);
      const second = (await api('GET', '/v1/bookings', testKeys.haiha)).json<{ bookings: { id: string; windowStart: number }[] }>().bookings.find((b) => b.windowStart === Date.parse(at('11:00')))!;
      await page.locator('#filter-state').selectOption('all');
      const secondItem = page.locator(`li.booking[data-id="${second.id}"]`);
      await poll(() => secondItem.getAttribute('data-state')).toBe('confirmed');
      const cancelled = await api('DELETE', `/v1/bookings/${second.id}`, testKeys.operator);
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      await poll(() => secondItem.getAttribute('data-state'), { message: 'the operator’s cancel seen live' }).toBe('cancelled');
      expect(pushed, 'pushed by the gateway, not read by a poll').toContainEqual({ id: second.id, state: 'cancelled' });
      expect(await secondItem.locator('.state').textContent()).toContain('huỷ bởi điều hành cửa khẩu');
      expect(await secondItem.locator('[data-action]').count(), 'nothing left to do with it').toBe(0);

      // A refusal in words: the operator closes a window the page still shows open; booking it says what to do.
      const closing = await api('PUT', '/v1/windows', testKeys.operator, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: at('12:00'), closed: true });
      expect(closing.statusCode, closing.body).toBe(200);
      await page.locator(`.window[data-start="${at('12:00')}"]`).click();
      await pickTruck(page);
      await page.locator('#hold').click();
      await poll(() => page.locator('#booking-message').textContent()).toBe('Khung giờ này đã bị đóng: chọn khung giờ khác.');
      await page.locator('#availability-refresh').click();
      await poll(() => page.locator(`.window[data-start="${at('12:00')}"]`).getAttribute('data-state')).toBe('closed');
      expect(await page.locator(`.window[data-start="${at('12:00')}"]`).isDisabled()).toBe(true);

      // Webhooks: a private address refused in words; the firm's receiver registered, its secret shown once; the cancel below delivered, seen in the log, sent again.
      await page.locator('#webhook-url').fill('https://10.1.2.3/hook');
      await page.locator('#webhook-form button[type="submit"]').click();
      await poll(() => page.locator('#webhook-message').textContent()).toMatch(/^Địa chỉ nhận không dùng được: phải là https tới một máy chủ công khai .*10\.1\.2\.3 is not a public address/);
      expect(await page.locator('#webhook-secret').isVisible()).toBe(false);
      await page.locator('#webhook-url').fill(receiverUrl);
      await page.locator('#webhook-form button[type="submit"]').click();
      await poll(() => page.locator('#webhook-secret-value').textContent()).toMatch(/^whsec_/);
      expect(await page.locator('#webhook-secret').textContent()).toContain('Khoá chỉ hiện một lần này');
      const endpointItem = page.locator('li.webhook', { has: page.locator('.url', { hasText: receiverUrl }) });
      await poll(() => endpointItem.getAttribute('data-state')).toBe('active');
      expect(await endpointItem.textContent()).toContain('Lịch đặt đổi trạng thái');
      await endpointItem.locator('[data-action="log"]').click();
      await poll(() => endpointItem.locator('.deliveries').textContent()).toBe('Chưa có lần gửi nào.');

      const cancel = firstItem.locator('[data-action="cancel"]');
      await cancel.click();
      await poll(() => cancel.textContent()).toBe('Huỷ?');
      await cancel.click();
      await poll(() => page.locator(`li.booking[data-id="${firstId}"]`).getAttribute('data-state')).toBe('cancelled');
      expect((await api('GET', `/v1/bookings/${firstId}`, testKeys.haiha)).json()).toMatchObject({ state: 'cancelled', cancelledBy: 'firm' });
      await poll(() => received.filter((r) => r.body.includes(firstId)).length, { message: 'the cancel delivered to the firm’s receiver', timeout: 60_000 }).toBeGreaterThan(0);
      const delivered = endpointItem.locator('li.attempt[data-outcome="delivered"]');
      await poll(() => delivered.count(), { message: 'the delivery in the page’s log' }).toBeGreaterThan(0);
      expect(await delivered.first().textContent()).toMatch(/^\d\d\/\d\d \d\d:\d\dĐã nhậnHTTP 204\d+ msGửi lại$/);
      const before = received.length;
      await delivered.first().locator('[data-action="replay"]').click();
      await poll(() => page.locator('#webhook-message').textContent()).toBe('Đã xếp tin vào hàng đợi để gửi lại.');
      await poll(() => received.length, { message: 'the replay delivered' }).toBeGreaterThan(before);
      expect(received.slice(0, before).map((r) => r.event), 'the replay sends an event already sent, again').toContain(received.at(-1)!.event);
      await inShippedFonts(page, 'in Vietnamese at 1366x768');
      await page.screenshot({ path: path.join(screenshots, 'booking-page-vi-1366x768.png'), fullPage: true });

      // Chinese, remembered over a reload (still signed in: the key is the tab's); every glyph in the shipped fonts.
      await page.locator('[data-lang="zh"]').click();
      expect(await page.locator('h1').textContent()).toBe('口岸通关预约');
      await page.reload();
      await poll(() => page.locator('#desk').isVisible()).toBe(true);
      expect(await page.locator('h1').textContent()).toBe('口岸通关预约');
      expect(await page.locator('html').getAttribute('lang')).toBe('zh');
      expect(await page.locator('#webhook-secret').isVisible(), 'the secret not shown again').toBe(false);
      await page.locator('#filter-state').selectOption('all');
      await poll(() => page.locator(`li.booking[data-id="${second.id}"] .state`).textContent()).toContain('已被口岸运行人员取消');
      await poll(() => page.locator('#conditions li.condition').textContent()).toContain('繁忙排队车辆12预计等待25 分钟');
      await page.setViewportSize({ width: 1920, height: 1080 });
      await showWindow(page, tomorrow, at('10:00'));
      await inShippedFonts(page, 'in Chinese at 1920x1080');
      expect((await overflow(page)).out, 'nothing sticks out at 1920x1080').toEqual([]);
      await page.screenshot({ path: path.join(screenshots, 'booking-page-zh-1920x1080.png'), fullPage: true });
      await page.setViewportSize({ width: 1366, height: 768 });
      await page.screenshot({ path: path.join(screenshots, 'booking-page-zh-1366x768.png'), fullPage: true });
      await page.locator('[data-lang="en"]').click();
      await poll(() => page.locator('#conditions li.condition .badge').textContent()).toBe('Busy');
      await inShippedFonts(page, 'in English at 1366x768');
      await page.screenshot({ path: path.join(screenshots, 'booking-page-en-1366x768.png'), fullPage: true });
      expect(violations).toEqual([]);
      expect(pageErrors).toEqual([]);
      await context.close();

      // A phone on the road: one column, nothing wider than the screen, book and confirm by touch.
      const phoneTimes = { vi: '14:00', zh: '14:30', en: '15:00' } as const;
      for (const [index, language] of (['vi', 'zh', 'en'] as const).entries()) {
        const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
        await phone.addInitScript({ content: `localStorage.setItem('tower.booking.language', '${language}')` });
        const mobile = await phone.newPage();
        await mobile.goto(`${origin}/`);
        await signIn(mobile, testKeys.haiha);
        const time = phoneTimes[language];
        await showWindow(mobile, tomorrow, at(time));
        await mobile.locator(`.window[data-start="${at(time)}"]`).tap();
        await pickTruck(mobile);
        await mobile.locator('#hold').tap();
        await poll(() => mobile.locator('#hold-panel').isVisible()).toBe(true);
        await mobile.screenshot({ path: path.join(screenshots, `booking-page-${language}-390x844-hold.png`) });
        await mobile.locator('#confirm').tap();
        // Confirmed: this one, and the other phones' before it.
        await poll(() => mobile.locator(`li.booking[data-state="confirmed"]`).count()).toBe(index + 1);
        // Far down a phone's page, the bookings are one tap away on the bar stuck at the top.
        await mobile.evaluate('window.scrollTo(0, document.body.scrollHeight)');
        await mobile.locator('.jump a[href="#bookings-title"]').tap();
        await poll(() => mobile.evaluate<number>('Math.round(document.getElementById("bookings-title").getBoundingClientRect().top)'), { message: 'the bookings at the top of the screen' }).toBeLessThan(160);
        expect(await mobile.evaluate<number>('document.querySelector(".jump").getBoundingClientRect().top'), 'the bar stays at the top').toBe(0);
        await mobile.screenshot({ path: path.join(screenshots, `booking-page-${language}-390x844-bookings.png`) });
        const layout = await overflow(mobile);
        expect(layout.scrollWidth, `no sideways scrolling on a phone (${language})`).toBeLessThanOrEqual(layout.width);
        expect(layout.out).toEqual([]);
        await inShippedFonts(mobile, `in ${language} on a phone`);
        await mobile.screenshot({ path: path.join(screenshots, `booking-page-${language}-390x844.png`), fullPage: true });
        await phone.close();
      }
    } finally {
      await browser.close();
      await new Promise((resolve) => receiver.close(resolve));
      await slots.close();
      await live.closeGateway();
      await live.app.close();
      await feed.stop();
    }
  });

  test('without the live gateway the page reads the bookings every few seconds, says so, and shows an operator’s cancel', { timeout: 180_000 }, async ({ kafka, redis, clickhouse, logger, createTopic }) => {
    await migrate(clickhouse.settings);
    const topics = { slots: await createTopic({ partitions: 1 }), trucks: await createTopic(), deadLetter: await createTopic({ partitions: 1 }) };
    const slots = await startSlots({ kafka, redis: redis.redis, clickhouse: clickhouse.client, logger, topics }, { liveUrl: '' });
    await slots.http.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${(slots.http.server.address() as { port: number }).port}`;
    const call = (method: 'POST' | 'DELETE', url: string, key: string, payload?: object, headers: Record<string, string> = {}) => slots.http.inject({ method, url, headers: { ...bearer(key), ...headers }, ...(payload ? { payload } : {}) });
    const plate = '14C-388.02';
    const registered = await call('POST', '/v1/fleet/trucks', testKeys.haiha, { plate, country: 'VN' });
    expect(registered.statusCode, registered.body).toBeLessThan(300);
    const tomorrow = new Date(Math.floor((Date.now() + 7 * 3_600_000) / dayMs) * dayMs + dayMs).toISOString().slice(0, 10);
    const held = await call('POST', '/v1/bookings', testKeys.haiha, { site: 'bac-luan-2', laneKind: 'smart', direction: 'export', windowStart: Date.parse(`${tomorrow}T16:00:00+07:00`), plate, cargoClass: 'machinery' }, { 'idempotency-key': uniqueName('poll') });
    expect(held.statusCode, held.body).toBe(201);
    const id = held.json<{ id: string }>().id;
    const browser = await chromium.launch(chromiumOptions);
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      const sockets: string[] = [];
      page.on('websocket', (socket) => sockets.push(socket.url()));
      await page.goto(`${origin}/`);
      await signIn(page, testKeys.haiha);
      const item = page.locator(`li.booking[data-id="${id}"]`);
      await poll(() => item.getAttribute('data-state')).toBe('held');
      expect(await page.locator('#live').getAttribute('data-state')).toBe('polling');
      expect(await page.locator('#live').textContent()).toBe('◌ Cập nhật vài giây một lần');
      // The firm's own system confirms it, then the gate's operators cancel it: the page learns both by reading again.
      expect((await call('POST', `/v1/bookings/${id}/confirm`, testKeys.haiha)).statusCode).toBe(200);
      await poll(() => item.getAttribute('data-state'), { message: 'the confirm read by a poll' }).toBe('confirmed');
      expect((await call('DELETE', `/v1/bookings/${id}`, testKeys.operator)).statusCode).toBe(200);
      await page.locator('#filter-state').selectOption('all');
      await poll(() => item.getAttribute('data-state'), { message: 'the operator’s cancel read by a poll' }).toBe('cancelled');
      expect(await item.locator('.state').textContent()).toContain('huỷ bởi điều hành cửa khẩu');
      expect(sockets, 'no socket opened: there is no gateway to open it to').toEqual([]);
    } finally {
      await browser.close();
      await slots.close();
    }
  });
});
