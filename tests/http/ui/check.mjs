// Loads the status page in Debian's headless Chromium (driven by playwright-core) and checks
// that it shows what the daemon reports. Used by tests/http/ui_browser_test.cc.
//
//   node check.mjs --url http://127.0.0.1:PORT/ui --chromium /usr/bin/chromium
//        --expect '{"backlog":90,"replicas":5,"desired":5,"reason":"clamped_max"}'
//        --screenshot out.png [--targets N]
//
// Checks: no console error, no CSP violation, no request leaving the page's origin; the detail
// cards show the expected values (they refresh, so it waits for them); the decisions table has
// a row with the expected reason; the time lag (card and table) is at least the expected one;
// every chart has drawn lines; the screenshot is not blank
// (PNG decoded here: many distinct colours and a large pixel variance). With --targets N the
// table must list min(N, 50) rows, sort by backlog on a header click, and open a target on a row
// click. Prints one JSON line of measurements; exits 1 with the reason on any failure.
import { chromium } from "playwright-core";
import fs from "node:fs";
import zlib from "node:zlib";

function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, "")] = a[i + 1];
  return out;
}

// Decodes an 8-bit, non-interlaced RGB or RGBA PNG into {width, height, channels, pixels}.
export function decodePng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let pos = 8, width = 0, height = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const kind = buf.toString("ascii", pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error("PNG: need 8-bit, non-interlaced");
      type = data[9];
    } else if (kind === "IDAT") {
      idat.push(data);
    }
    pos += 12 + len;
  }
  const channels = type === 6 ? 4 : type === 2 ? 3 : 0;
  if (!channels) throw new Error("PNG: colour type " + type + " not handled");
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

export function imageStats(png) {
  const colors = new Set();
  let sum = 0, sum2 = 0, n = 0;
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const r = png.pixels[i], g = png.pixels[i + 1], b = png.pixels[i + 2];
    colors.add((r << 16) | (g << 8) | b);
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += l;
    sum2 += l * l;
    n++;
  }
  const mean = sum / n;
  return { width: png.width, height: png.height, distinct_colors: colors.size,
           luminance_stddev: Math.sqrt(Math.max(0, sum2 / n - mean * mean)) };
}

// Polls `cond` (async) every 250 ms until it holds or `ms` pass. Not page.waitForFunction: that
// evaluates a string in the page, which the page's Content-Security-Policy rightly refuses.
async function until(cond, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

function fail(msg) {
  console.error("ui check: " + msg);
  process.exit(1);
}

async function main() {
  const a = args();
  const expect = a.expect ? JSON.parse(a.expect) : null;
  const origin = new URL(a.url).origin;
  // playwright gives the browser a fresh profile of its own (it refuses --user-data-dir here).
  const browser = await chromium.launch({
    executablePath: a.chromium || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run"],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith(origin + "/")) problems.push("request outside the origin: " + r.url());
    });
    const started = Date.now();
    const response = await page.goto(a.url);
    if (!response || response.status() !== 200) fail("GET /ui: " + (response && response.status()));
    if (!response.headers()["content-security-policy"]) fail("no Content-Security-Policy header");
    await page.waitForSelector("body[data-loaded=true]", { timeout: 60000 });
    const measured = { first_render_ms: Date.now() - started };

    if (expect) {
      const want = {
        "#v-backlog": String(expect.backlog), "#v-replicas": String(expect.replicas),
        "#v-desired": String(expect.desired), "#v-reason": String(expect.reason),
      };
      if (expect.stuck_partitions !== undefined) want["#v-stuck"] = String(expect.stuck_partitions);
      const seen = {};
      const shown = await until(async () => {
        for (const sel of Object.keys(want)) seen[sel] = await page.textContent(sel);
        return Object.keys(want).every((sel) => seen[sel] === want[sel]);
      }, 60000);
      if (!shown) fail("the page never showed " + JSON.stringify(want) + "; it shows " + JSON.stringify(seen));
      const reasons = await page.$$eval("#decisions tbody td.reason", (tds) => tds.map((t) => t.textContent));
      if (!reasons.includes(String(expect.reason))) fail("no decision with reason " + expect.reason + " in " + JSON.stringify(reasons));
      const row = await page.$$eval("#target-table tbody tr", (trs) => trs.map((tr) => tr.querySelector("td.backlog").textContent));
      if (row.length !== 1 || row[0] !== String(expect.backlog)) fail("target table: " + JSON.stringify(row));
      for (const [chart, series] of [["#chart-backlog", "backlog"], ["#chart-replicas", "replicas"], ["#chart-replicas", "desired"]]) {
        const pts = await page.$eval(`${chart} path[data-series=${series}]`, (p) => Number(p.dataset.points)).catch(() => 0);
        if (pts < 2) fail(`${chart}: the ${series} line has ${pts} points`);
      }
      measured.decisions = reasons.length;
      // Time lag grows while the backlog waits, so the figure is checked for its lower end: the
      // card and the table show whole seconds ("≥ " when a lower bound), at least what `/` said.
      if (expect.lag_seconds !== undefined) {
        const card = await page.textContent("#v-lag");
        const cell = await page.$eval("#target-table tbody td.lag", (td) => td.textContent);
        for (const [where, text] of [["#v-lag", card], ["table", cell]]) {
          const m = /^(\u2265 )?(\d+)$/.exec(text);
          if (!m || Number(m[2]) < Math.floor(expect.lag_seconds)) {
            fail(`${where} shows lag "${text}"; want whole seconds, at least ${expect.lag_seconds}`);
          }
        }
        measured.lag_shown = card;
      }
    }

    if (a.targets) {
      const n = Number(a.targets);
      const rows = await page.$$eval("#target-table tbody tr", (trs) => trs.length);
      if (rows !== Math.min(n, 50)) fail(`table: ${rows} rows for ${n} targets`);
      const t0 = Date.now();
      await page.click("#target-table th[data-key=backlog]");  // ascending
      await page.click("#target-table th[data-key=backlog]");  // descending
      measured.sort_ms = Date.now() - t0;
      const backlogs = await page.$$eval("#target-table tbody td.backlog", (tds) => tds.map((t) => Number(t.textContent)));
      for (let i = 1; i < backlogs.length; i++) {
        if (backlogs[i] > backlogs[i - 1]) fail("not sorted by backlog, descending: " + backlogs.slice(0, 10));
      }
      const top = await page.$eval("#target-table tbody tr", (tr) => tr.dataset.ns + "/" + tr.dataset.name);
      await page.click("#target-table tbody tr");
      const opened = await until(async () => (await page.textContent("#detail-title")).endsWith(" " + top), 30000);
      if (!opened || !(await page.isVisible("#detail"))) fail("click-through: no detail for " + top);
      measured.top = top;
    }

    if (problems.length) fail(problems.join("\n"));
    if (a.screenshot) {
      const png = await page.screenshot({ fullPage: true });
      fs.writeFileSync(a.screenshot, png);
      const stats = imageStats(decodePng(png));
      Object.assign(measured, stats);
      if (stats.distinct_colors < 32 || stats.luminance_stddev < 10) fail("the screenshot looks blank: " + JSON.stringify(stats));
    }
    console.log(JSON.stringify({ ok: true, ...measured }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => fail(e.stack || String(e)));
