// The review console in a real browser: Debian's Chromium, driven by playwright-core (no browser
// download; the system binary is launched directly). Run by `cargo test -p samaritan-cli --test
// browser`, which starts `samaritan serve --demo` and passes what this script needs in the
// environment. Exits non-zero on the first failed check, naming it.
//
// Why playwright-core: it drives the system Chromium over CDP with auto-waiting and screenshots,
// it is one npm package with no native build, and axe-core (also npm) runs in its pages. A Rust
// CDP client would put a browser protocol stack into the workspace's build for tests only.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env("SAMARITAN_URL").replace(/\/$/, "");
const CHROMIUM = env("SAMARITAN_CHROMIUM");
const SHOTS = env("SAMARITAN_SHOTS");
const DEMO_PW = env("DEMO_PASSWORD");
const AUD_PW = env("AUDITOR_PASSWORD");
const LOCKY_PW = env("LOCKY_PASSWORD");
const DEMO_KEY = env("DEMO_KEY");
const LEAD_PW = env("LEAD_PASSWORD");
const ADMIN_PW = env("ADMIN_PASSWORD");
const IMAGE = readFileSync(env("IMAGE_FIXTURE")).toString("base64");
mkdirSync(SHOTS, { recursive: true });

let checks = 0;
/** The ad the demo reviewer decides first (an admin overrides it to a report later). */
let decidedUrl = "";
function check(cond, what) {
  checks += 1;
  if (!cond) throw new Error(`FAILED: ${what}`);
  console.log(`ok ${checks} - ${what}`);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
});

/** A fresh browser context that fails the run on a CSP violation or a request to another origin. */
async function context(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 860 }, ...opts });
  ctx.on("request", (r) => {
    if (!r.url().startsWith(BASE) && !r.url().startsWith("data:")) {
      throw new Error(`FAILED: a request left the console: ${r.url()}`);
    }
  });
  const page = await ctx.newPage();
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|apply|load)/i.test(m.text())) {
      console.error(`CSP violation: ${m.text()}`);
      process.exitCode = 1;
    }
  });
  page.on("pageerror", (e) => {
    console.error(`page error: ${e.message}`);
    process.exitCode = 1;
  });
  return { ctx, page };
}

async function signIn(page, name, password) {
  await page.goto(`${BASE}/login`);
  await page.fill("#name", name);
  await page.fill("#password", password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** axe-core on the current page (in a context that lets the test inject it). */
async function axe(page, what) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`  axe ${what}: ${v.impact} ${v.id} (${v.nodes}) ${v.help}`);
  check(bad.length === 0, `axe-core: no serious or critical violations on the ${what} page`);
}

// 1. Sign in, the queue, the keyboard.
{
  const { ctx, page } = await context();
  const first = await page.goto(`${BASE}/`);
  check(page.url().startsWith(`${BASE}/login`), "signed out, / leads to the sign-in page");
  const csp = first.headers()["content-security-policy"] || "";
  check(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), "the CSP allows no inline script");
  await shot(page, "login");
  await signIn(page, "demo", DEMO_PW);
  check(page.url() === `${BASE}/queue`, `signing in opens the queue (at ${page.url()}: ${await page.locator(".error").allTextContents()})`);
  const rows = await page.locator("table.queue tbody tr").count();
  check(rows > 0, `the queue lists items (${rows})`);
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  check((await page.locator("tr.sel").count()) === 1, "j selects a row");
  await page.keyboard.press("k");
  const selHref = await page.locator("tr.sel").getAttribute("data-href");
  await shot(page, "queue");
  await Promise.all([page.waitForURL(/\/ads\//), page.keyboard.press("Enter")]);
  check(page.url().endsWith(selHref), "Enter opens the selected item");

  // Filters refresh the table in place (htmx) and keep the address.
  await page.goto(`${BASE}/queue`);
  await Promise.all([
    page.waitForResponse((r) => r.url().includes("verdict=block")),
    page.selectOption("select[name=verdict]", "block"),
  ]);
  await page.waitForURL(/verdict=block/);
  const verdicts = await page.locator("table.queue tbody .verdict").allTextContents();
  check(verdicts.length > 0 && verdicts.every((v) => v === "block"), "the verdict filter narrows the table in place");

  // Claim next with `n`, decide with the keyboard, and the next item opens.
  await page.goto(`${BASE}/queue`);
  await Promise.all([page.waitForURL(/\/ads\//), page.keyboard.press("n")]);
  const decided = page.url();
  decidedUrl = decided;
  check((await page.locator("#decide").count()) === 1, "claim next opens an item with the decision form");
  check((await page.locator("mark.sig").count()) > 0, "the ad's signals are highlighted in its text");
  const lease = await page.locator("time.lease").textContent();
  check(/left/.test(lease || ""), `the lease counts down (${lease})`);
  await page.locator("mark.sig").first().focus();
  await shot(page, "ad");
  await page.keyboard.press("?");
  check(await page.locator("dialog#keys").evaluate((d) => d.open), "? lists the keys");
  await shot(page, "keys");
  await page.keyboard.press("Escape");
  await page.keyboard.press("d");
  check(await page.locator('input[name=action][value=remove]').isChecked(), "d chooses remove");
  check(await page.locator('fieldset.reasons[data-action=remove]').isVisible(), "remove's reasons show");
  check(!(await page.locator('fieldset.reasons[data-action=allow]').isVisible()), "other actions' reasons hide");
  await page.keyboard.press("2");
  const reason = await page.locator('fieldset.reasons[data-action=remove] input[data-n="2"]').getAttribute("value");
  check(await page.locator('fieldset.reasons[data-action=remove] input[data-n="2"]').isChecked(), `2 chooses the second reason (${reason})`);
  await Promise.all([page.waitForURL((u) => u.toString() !== decided), page.keyboard.press("s")]);
  check(/\/ads\/|\/queue/.test(page.url()), "s submits and moves on");
  await page.goto(decided);
  const history = await page.locator("table.decisions").textContent();
  check(history.includes("remove") && history.includes(reason) && history.includes("user:demo"), "the decision is recorded with its reason, under the person's name");

  // Search by a phone of the ad.
  const phoneLink = page.locator('ul.idents a[href^="/search?kind=phone"]').first();
  if ((await phoneLink.count()) > 0) {
    await Promise.all([page.waitForURL(/\/search/), phoneLink.click()]);
    check((await page.locator('table.queue a[href^="/ads/"]').count()) > 0, "search by phone lists the ads that share it");
  } else {
    await page.goto(`${BASE}/search?kind=phone&value=7025550100`);
  }
  await shot(page, "search");

  // A network as one case: graph, movement, one decision over selected members.
  await page.goto(`${BASE}/queue`);
  const netLink = page.locator('table.queue a[href^="/networks/"]').first();
  check((await netLink.count()) > 0, "the queue links networks");
  await Promise.all([page.waitForURL(/\/networks\//), netLink.click()]);
  check((await page.locator("svg.graph line").count()) > 0, "the case draws what joins its members");
  await shot(page, "network");
  const boxes = page.locator('input[type=checkbox][name=ad]');
  const n = Math.min(2, await boxes.count());
  if (n > 0) {
    for (let i = 0; i < n; i++) await boxes.nth(i).check();
    await page.check('#case-decide input[name=action][value=remove]');
    await page.check('#case-decide fieldset.reasons[data-action=remove] input[data-n="1"]');
    await Promise.all([page.waitForNavigation(), page.click("#case-decide button[type=submit]")]);
    const notice = await page.locator(".notice").textContent();
    check(notice.includes(`${n} of ${n} selected members decided`), `one decision over ${n} members, each recorded (${notice.trim().slice(0, 80)})`);
  }

  // A form post without the session's token is refused; so are the auditor's pages.
  const forged = await page.request.post(`${BASE}/queue/next`, { form: { csrf: "" } });
  check(forged.status() === 403, "a post without the CSRF token is refused");
  const audit = await page.goto(`${BASE}/audit`);
  check(audit.status() === 403, "a reviewer is refused the audit log");

  // Signing out ends the session.
  await page.goto(`${BASE}/queue`);
  await Promise.all([page.waitForURL(/\/login/), page.click("header form[action='/logout'] button")]);
  await page.goto(`${BASE}/queue`);
  check(page.url().startsWith(`${BASE}/login`), "after signing out the queue needs a new sign-in");
  await ctx.close();
}

// 1b. An ad with a photo: kept, shown blurred and greyscale, revealed on request (audited below).
{
  const { ctx, page } = await context();
  const posted = await page.request.post(`${BASE}/v1/ads`, {
    headers: { Authorization: `Bearer ${DEMO_KEY}`, "Content-Type": "application/json" },
    data: JSON.stringify([{ id: "browser-photo-1", title: "New in town", body: "Sweet 16yo new girl, incall $150/hr, text 702-555-0199", location: { city: "Reno" }, images: [{ base64: IMAGE }] }]),
  });
  check(posted.ok(), `an ad with a photo is ingested (${posted.status()})`);
  await signIn(page, "demo", DEMO_PW);
  await page.goto(`${BASE}/ads/browser-photo-1`);
  const img = page.locator("#image-0 img");
  check((await img.getAttribute("class")) === "blurred", "the photo shows blurred by default");
  check((await img.evaluate((i) => i.complete && i.naturalWidth > 0)), "the blurred rendering loads from the console");
  await img.scrollIntoViewIfNeeded();
  await shot(page, "image-blurred");
  await Promise.all([page.waitForNavigation(), page.click("#image-0 a.reveal")]);
  const full = page.locator("#image-0 img");
  check((await full.getAttribute("class")) === "revealed", "reveal shows the photo (greyscale)");
  await full.evaluate((i) => i.decode());
  // Search by picture: the same file finds the ad.
  await page.goto(`${BASE}/search`);
  await page.setInputFiles('input[type=file][name=image]', env("IMAGE_FIXTURE"));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/search/image"] button')]);
  check((await page.locator('table.queue a[href="/ads/browser-photo-1"]').count()) === 1, "an uploaded picture finds the ad that posted it");
  await shot(page, "search-image");
  await ctx.close();
}

// 2. Without JavaScript: a plain form post still decides.
{
  const { ctx, page } = await context({ javaScriptEnabled: false });
  await signIn(page, "demo", DEMO_PW);
  await Promise.all([page.waitForURL(/\/ads\//), page.click("#claim-next button")]);
  await page.check("input[name=action][value=allow]");
  await page.check('fieldset.reasons[data-action=allow] input[data-n="1"]');
  await Promise.all([page.waitForNavigation(), page.click("button[value=queue]")]);
  check(/\/queue\?done=/.test(page.url()), "with JavaScript off, a decision is a plain form post");
  await ctx.close();
}

// 3. The auditor: the log and its verification.
{
  const { ctx, page } = await context();
  await signIn(page, "aud", AUD_PW);
  check(page.url().startsWith(`${BASE}/audit`) || page.url().startsWith(`${BASE}/queue`), "the auditor signs in");
  await page.goto(`${BASE}/audit?verify=1`);
  check((await page.locator(".notice").textContent()).includes("Intact"), "the auditor verifies the chain: intact");
  const log = await page.locator("table.audit").textContent();
  check(log.includes("user:demo"), "the reviewer's actions are in the log under their name");
  check(log.includes("image.reveal"), "the reveal of the photo is in the log");
  await shot(page, "audit");
  await ctx.close();
}

// 3b. The lead: dashboard and exposure (counts only).
{
  const { ctx, page } = await context();
  await signIn(page, "lead", LEAD_PW);
  await page.goto(`${BASE}/dashboard`);
  check((await page.locator(".tile").count()) === 4, "the lead's dashboard shows its figures");
  check((await page.locator("main table").first().textContent()).includes("urgent"), "the queue by priority band");
  await shot(page, "dashboard");
  await page.goto(`${BASE}/exposure`);
  check((await page.locator("main table").textContent()).includes("demo"), "the exposure overview lists the reviewer");
  await shot(page, "exposure");

  // Quality review: the server samples every decision here (--qa-second-review-rate 1), so the
  // lead's "claim next" serves the demo reviewer's decision for a blind second review first.
  await page.goto(`${BASE}/queue`);
  await Promise.all([page.waitForURL(/\/ads\//), page.keyboard.press("n")]);
  check((await page.locator("#dec-h + p").textContent()).includes("Earlier decisions are not shown"), "a second review hides the first decision");
  check((await page.locator('a[href^="/networks/"]').count()) === 0, "and the network case, which would show it");
  await shot(page, "second-review");
  const reviewed = page.url();
  await page.keyboard.press("a");
  await page.keyboard.press("1");
  await Promise.all([page.waitForURL((u) => u.toString() !== reviewed), page.keyboard.press("s")]);
  await page.goto(`${BASE}/qa`);
  const dis = await page.locator("#dis-h").locator("xpath=..").textContent();
  check(dis.includes("user:demo") && dis.includes("allow"), "the lead sees the disagreement beside the first decision");
  check((await page.locator("#agree-h").locator("xpath=..").textContent()).includes("user:lead"), "agreement per reviewer is listed");
  await shot(page, "quality");
  await ctx.close();
}

// 3c. The admin: backtest a policy change over the recent ads before putting it in force.
{
  const { ctx, page } = await context();
  await signIn(page, "adm", ADMIN_PW);
  await page.goto(`${BASE}/admin`);
  const text = await page.locator("#policy").inputValue();
  const edited = text.replace(/^version = .*$/m, 'version = "backtest"') +
    '\n[[indicator]]\nid = "apply_test"\ncategory = "commercial"\ndescription = "test"\nsource = "test"\nweight = 0.50\nphrases = ["apply", "please"]\n';
  await page.locator("#policy").fill(edited);
  await page.fill("input[name=recent]", "400");
  await Promise.all([page.waitForNavigation(), page.click("#policy-diff")]);
  const summary = await page.locator("#diff").textContent();
  check(summary.includes("default@backtest") && /400 most recent ads/.test(summary), "the backtest runs over the recent ads");
  check((await page.locator("#diff table").count()) > 0, "and lists what moves");
  check((await page.locator("#policy").inputValue()).includes('version = "backtest"'), "the text compared stays in the editor");
  check((await page.locator("main").textContent()).includes("Nothing was put in force"), "a backtest changes nothing");
  await page.evaluate(() => document.getElementById("diff").scrollIntoView());
  await shot(page, "admin-backtest");

  // An admin overrides the reviewer's decision to a report: a report case opens.
  await page.goto(decidedUrl);
  check((await page.locator("#decide-h").textContent()).includes("Override"), "a decided ad offers admins an override");
  await page.check('#decide input[name=action][value=report]');
  await page.check('#decide fieldset.reasons[data-action=report] input[value=child_sex_trafficking]');
  await Promise.all([page.waitForNavigation(), page.click("#decide button[type=submit]")]);
  check((await page.locator("table.decisions").textContent()).includes("(override)"), "the override is recorded as such");
  await page.goto(`${BASE}/reports`);
  check((await page.locator("table.queue tbody tr").count()) >= 1, "the report decision opened a case");
  await ctx.close();
}

// 4. Lockout after failed sign-ins, with the same words as a wrong password.
{
  const { ctx, page } = await context();
  for (let i = 0; i < 5; i++) await signIn(page, "locky", "not the password!");
  await signIn(page, "locky", LOCKY_PW);
  check(page.url().startsWith(`${BASE}/login`), "after 5 failures even the right password is refused");
  check((await page.locator(".error").textContent()).includes("Wrong name or password"), "the refusal does not say the account is locked");
  await ctx.close();
}

// 5. Accessibility (axe-core needs to be injected, so this context bypasses the CSP).
{
  const { ctx, page } = await context({ bypassCSP: true });
  await page.goto(`${BASE}/login`);
  await axe(page, "sign-in");
  await signIn(page, "demo", DEMO_PW);
  await axe(page, "queue");
  await Promise.all([page.waitForURL(/\/ads\//), page.click("#claim-next button")]);
  await axe(page, "ad");
  await page.goto(`${BASE}/search?kind=phone&value=7025550100`);
  await axe(page, "search");
  await page.goto(`${BASE}/settings`);
  await axe(page, "settings");
  await ctx.close();
}
{
  const { ctx, page } = await context({ bypassCSP: true });
  await signIn(page, "lead", LEAD_PW);
  await page.goto(`${BASE}/reports`);
  await axe(page, "reports");
  await Promise.all([page.waitForURL(/\/reports\/\d+/), page.locator('table.queue a[href^="/reports/"]').first().click()]);
  check((await page.locator("main").textContent()).includes("Child Sex Trafficking"), "the case reads as sections of the draft");
  await axe(page, "report case");
  await shot(page, "report");
  await Promise.all([page.waitForNavigation(), page.click("#approve button")]);
  check((await page.locator(".notice").textContent()).includes("Approved by user:lead"), "a second person approves the case");
  await page.goto(`${BASE}/qa`);
  await axe(page, "quality");
  await page.goto(`${BASE}/dashboard`);
  await axe(page, "dashboard");
  await ctx.close();
}
{
  const { ctx, page } = await context({ bypassCSP: true });
  await signIn(page, "adm", ADMIN_PW);
  await page.goto(`${BASE}/admin`);
  await axe(page, "admin");
  await ctx.close();
}

// 6. Session expiry: the server runs with --session-idle-mins 1; after a minute without a
// request the session is over and the next page asks to sign in again.
{
  const { ctx, page } = await context();
  await signIn(page, "demo", DEMO_PW);
  await page.goto(`${BASE}/queue`);
  check(page.url() === `${BASE}/queue`, "signed in, the queue opens");
  await page.waitForTimeout(63_000);
  await page.goto(`${BASE}/queue`);
  check(page.url().startsWith(`${BASE}/login`), `after a minute idle the session has ended (at ${page.url()})`);
  await shot(page, "session-ended");
  await ctx.close();
}

await browser.close();
if (process.exitCode) {
  console.error("FAILED: the browser reported errors above");
} else {
  console.log(`all ${checks} browser checks passed; screenshots in ${SHOTS}`);
}
