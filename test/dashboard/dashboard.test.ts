/**
 * The live dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * gateway with three simulators, an admin token set and traffic flowing: every target shows, a
 * simulator taken down turns red, the disable button stops a target's traffic, and no key ever
 * reaches the page, the events stream or an admin answer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Page } from "playwright-core";
import { eventually, sleep } from "../helpers/wait.js";
import { ADMIN_TOKEN, KEYS, adminHeaders, keepTraffic, startDashboardGateway, targetAction } from "./dashboard-fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT_DIR = new URL("../.screenshots/", import.meta.url);
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const card = (page: Page, target: string) => page.locator(`li[data-target="chat/${target}"]`);
const healthOf = (page: Page, target: string) => card(page, target).getAttribute("data-health");

test("the dashboard shows every target, turns a dead one red, disables one from its button, and shows no key", async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is not installed (apt-get install -y chromium): the browser test needs it`);
    return;
  }
  const f = await startDashboardGateway(3);
  const traffic = keepTraffic(f.url, 2);
  t.after(async () => {
    await traffic.stop();
    await f.close();
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  // Script errors and CSP refusals fail the test; a refused fetch (the 401 before the token) is expected.
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });

  // The token path: the stream answers 401 until the operator types the token (from the keyboard).
  await page.goto(`${f.url}/dashboard`);
  await page.locator('#conn[data-state="auth"]').waitFor({ timeout: 5_000 });
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByLabel("Admin token").press("Enter");
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 });

  // Every target shows, green, with its masked key.
  for (const [i, key] of KEYS.entries()) {
    await card(page, `t${i}`).waitFor({ timeout: 5_000 });
    await eventually(async () => (await healthOf(page, `t${i}`)) === "ok", 3_000, `t${i} green`);
    assert.match((await card(page, `t${i}`).locator('[data-f="key"]').textContent()) ?? "", new RegExp(`\\*\\*\\*\\*${key.slice(-4)}`));
  }

  // Ticks change text only: a focused button keeps the focus and no card moves.
  const enableT2 = card(page, "t2").getByRole("button", { name: "Enable t2" });
  await enableT2.focus();
  const boxBefore = await card(page, "t2").boundingBox();
  await sleep(2_100);
  assert.equal(await page.evaluate("document.activeElement?.getAttribute('aria-label')"), "Enable t2");
  assert.deepEqual(await card(page, "t2").boundingBox(), boxBefore);

  // A simulator taken down: with traffic going its breaker opens, and its card is red within 3 s.
  await f.sims[0]!.close();
  const downAt = Date.now();
  await eventually(async () => (await healthOf(page, "t0")) === "down", 3_000, "t0 red after its simulator went down");
  const redAfter = Date.now() - downAt;
  assert.match((await card(page, "t0").locator('[data-f="breaker"]').textContent()) ?? "", /open · trial in \d+ s/);

  // Disable t1 from its button: the gateway's answer shows, and t1 takes no more calls.
  await card(page, "t1").getByRole("button", { name: "Disable t1" }).click();
  await eventually(
    async () => /Disable: done/.test((await card(page, "t1").locator('[data-f="answer"]').textContent()) ?? ""),
    3_000,
    "the disable answer",
  );
  await sleep(200); // calls already on their way to t1 land
  const callsAtDisable = f.sims[1]!.stats().requests;
  const sentAtDisable = traffic.sent();
  await sleep(1_000);
  assert.ok(traffic.sent() - sentAtDisable >= 10, `traffic kept flowing (${traffic.sent() - sentAtDisable} requests)`);
  assert.equal(f.sims[1]!.stats().requests, callsAtDisable, "t1's simulator got no call once disabled");
  await eventually(async () => (await healthOf(page, "t1")) === "down", 3_000, "t1 red once disabled");
  assert.equal(await card(page, "t1").locator('[data-f="keystate"]').textContent(), "disabled (operator)");
  assert.equal(await healthOf(page, "t2"), "ok");
  await page.locator("#feed li", { hasText: "t1 key: enabled → disabled" }).waitFor({ timeout: 3_000 });
  await page.locator("#feed li", { hasText: "t0 breaker: closed → open" }).waitFor({ timeout: 3_000 });

  // Let the charts gather a few points, then keep a picture of it.
  await sleep(1_500);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: new URL("dashboard.png", SCREENSHOT_DIR).pathname });

  // No key anywhere: the page, the raw events stream as the page reads it, the admin answers.
  const html = await page.content();
  const streamText = await page.evaluate(async (token) => {
    const ac = new AbortController();
    const res = await fetch("/admin/events", { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const end = Date.now() + 1_500;
    while (Date.now() < end && !text.includes("event: tick")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    ac.abort();
    return text;
  }, ADMIN_TOKEN);
  assert.match(streamText, /event: snapshot/);
  const answers = [
    await (await fetch(`${f.url}/admin/status`, { headers: adminHeaders })).text(),
    await (await fetch(`${f.url}/admin/config`, { headers: adminHeaders })).text(),
    (await targetAction(f.url, "t2", "reset-breaker")).text,
  ];
  for (const key of KEYS) {
    assert.ok(!html.includes(key), `key ${key} in the page`);
    assert.ok(!streamText.includes(key), `key ${key} in the events stream`);
    for (const a of answers) assert.ok(!a.includes(key), `key ${key} in an admin answer`);
  }
  assert.ok(!html.includes(ADMIN_TOKEN), "the admin token is not written into the page");
  assert.deepEqual(problems, []);
  t.diagnostic(`t0 turned red ${redAfter} ms after its simulator went down`);
});
