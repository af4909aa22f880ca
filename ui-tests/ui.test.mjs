// The web UI in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// on SQLite and PostgreSQL, at phone (375 px) and desktop (1280 px) width.
//
// It builds nothing: it runs the already-built target/debug/inventory (to create the
// database, the demo home and the users) and target/debug/inventory-api (started with
// --migrate on a free port). `cargo xtask ui-test` builds both and runs this file.
//
// Environment: INVENTORY_CHROMIUM (default /usr/bin/chromium); INVENTORY_UI_PG (the URL of
// a PostgreSQL server's `postgres` database, default postgres://postgres@127.0.0.1:5432/postgres)
// — PostgreSQL is not optional: the suite fails when it cannot create its database there.
// Screenshots: target/ui-screenshots/<backend>-<test>-<width>.png.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => path.join(root, "target", "debug", name);
const shots = path.join(root, "target", "ui-screenshots");
const browserPath = process.env.INVENTORY_CHROMIUM || "/usr/bin/chromium";
const pgAdmin = process.env.INVENTORY_UI_PG || "postgres://postgres@127.0.0.1:5432/postgres";
/** The URL of database `name` on the PostgreSQL server of `pgAdmin`. */
function pgUrl(name) {
  const u = new URL(pgAdmin);
  u.pathname = `/${name}`;
  return u.toString();
}

const ADMIN = { username: "admin", password: "correct horse battery" };
const VIEWER = { username: "viewer", password: "just looking around" };
const WIDTHS = [
  { name: "375", viewport: { width: 375, height: 800 } },
  { name: "1280", viewport: { width: 1280, height: 800 } },
];

for (const b of ["inventory", "inventory-api"]) {
  if (!fs.existsSync(bin(b))) {
    throw new Error(`${bin(b)} is missing: build it first (cargo xtask ui-test does)`);
  }
}
if (!fs.existsSync(browserPath)) {
  throw new Error(`no Chromium at ${browserPath}: apt-get install chromium (or set INVENTORY_CHROMIUM)`);
}
fs.mkdirSync(shots, { recursive: true });

/** Runs the CLI on `url`; `input` goes to its stdin. Throws with its stderr on failure. */
function cli(url, args, input) {
  const r = spawnSync(bin("inventory"), ["--database-url", url, ...args], {
    input: input ?? "",
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(`inventory ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** psql against the PostgreSQL server (database `postgres`); throws when unreachable. */
function psql(sql) {
  const r = spawnSync("psql", [pgAdmin, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], {
    encoding: "utf8",
  });
  if (r.error || r.status !== 0) {
    throw new Error(`PostgreSQL at ${new URL(pgAdmin).host} is required and did not answer: ${r.error ?? r.stderr}`);
  }
  return r.stdout;
}

/** A fresh database of `backend` with the demo home, an admin and a viewer. */
function makeDatabase(backend) {
  if (backend === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "inventory-ui-"));
    return { url: `sqlite://${path.join(dir, "inventory.db")}`, drop: () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `inventory_ui_${process.pid}_${Date.now()}`;
  psql(`CREATE DATABASE ${name}`);
  return { url: pgUrl(name), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function startServer(url) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin("inventory-api"), ["--database-url", url, "--bind", `127.0.0.1:${port}`, "--migrate"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return { base, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGTERM");
  throw new Error(`inventory-api did not become ready on ${base}: ${stderr}`);
}

async function logIn(page, base, user) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${base}/`);
}

/** Opens the location at `p` ("My House / Garage") by searching for its last name. */
async function openLocation(page, base, p) {
  const last = p.split(" / ").pop();
  await page.goto(`${base}/?q=${encodeURIComponent(last)}`);
  await page.locator("ul.hits a").filter({ hasText: last }).filter({ hasText: p.split(" / ").slice(0, -1).join(" / ") || last }).first().click();
  await assert.doesNotReject(page.getByRole("heading", { level: 1, name: new RegExp(`^${escape(last)}`) }).waitFor());
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

for (const backend of ["sqlite", "postgres"]) {
  describe(backend, () => {
    let db;
    let server;
    let browser;

    before(async () => {
      db = makeDatabase(backend);
      cli(db.url, ["db", "init"]);
      cli(db.url, ["demo"]);
      cli(db.url, ["user", "add", ADMIN.username, "--role", "admin"], `${ADMIN.password}\n`);
      cli(db.url, ["user", "add", VIEWER.username, "--role", "viewer"], `${VIEWER.password}\n`);
      server = await startServer(db.url);
      browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
    });

    after(async () => {
      await browser?.close();
      if (server) {
        server.child.kill("SIGTERM");
        await new Promise((r) => (server.child.exitCode !== null ? r() : server.child.once("exit", r)));
      }
      db?.drop();
    });

    for (const w of WIDTHS) {
      /** A test in a fresh browser context (own cookies) at this width, logged in as `user`. */
      const scenario = (name, user, body) =>
        test(`${name} at ${w.name} px`, async () => {
          const context = await browser.newContext({ viewport: w.viewport });
          const page = await context.newPage();
          const outside = [];
          page.on("request", (r) => {
            const u = new URL(r.url());
            if (u.origin !== server.base && u.protocol !== "data:") outside.push(r.url());
          });
          try {
            if (user) await logIn(page, server.base, user);
            await body(page, server.base, `${w.name}`);
            await page.screenshot({ path: path.join(shots, `${backend}-${name}-${w.name}.png`), fullPage: true });
            assert.deepEqual(outside, [], "no request to another host");
          } catch (e) {
            await page.screenshot({ path: path.join(shots, `${backend}-${name}-${w.name}-failed.png`), fullPage: true }).catch(() => {});
            throw e;
          } finally {
            await context.close();
          }
        });

      scenario("login", null, async (page, base) => {
        await page.goto(`${base}/`);
        await page.waitForURL(/\/login/);
        await page.getByLabel("Username").fill(ADMIN.username);
        await page.getByLabel("Password").fill("not the password");
        await page.getByRole("button", { name: "Log in" }).click();
        await page.getByRole("alert").waitFor();
        await page.getByLabel("Username").fill(ADMIN.username);
        await page.getByLabel("Password").fill(ADMIN.password);
        await page.getByRole("button", { name: "Log in" }).click();
        await page.waitForURL(`${base}/`);
        await page.getByRole("heading", { level: 1, name: "Where is…?" }).waitFor();
        const cookies = await page.context().cookies();
        assert.ok(cookies.length > 0 && cookies.every((c) => c.httpOnly && c.sameSite !== "None"), "session cookie HttpOnly, SameSite");
      });

      scenario("search", ADMIN, async (page, base, tag) => {
        const box = page.getByRole("searchbox", { name: "Search" });
        assert.equal(await box.getAttribute("type"), "search");
        await box.pressSequentially("drill", { delay: 30 });
        // As you type: the hits appear without submitting the form.
        const hit = page.locator("#hits a").filter({ hasText: "Cordless Drill" });
        await hit.waitFor();
        // The page with its hits, as the README shows it.
        await page.screenshot({ path: path.join(shots, `search-hits-${tag}.png`), fullPage: true });
        assert.match(await hit.innerText(), /My House \/ Garage \/ Metal Shelf \/ Tool Box/);
        await hit.click();
        await page.getByRole("heading", { level: 1, name: /Cordless Drill/ }).waitFor();
        assert.match(page.url(), /\/items\/\d+/);
      });

      scenario("search-without-js", ADMIN, async (page, base) => {
        await page.context().route("**/assets/*.js", (r) => r.abort());
        await page.goto(`${base}/`);
        await page.getByLabel("Search").fill("hammer");
        await page.getByRole("button", { name: "Search", exact: true }).click();
        await page.waitForURL(/\?q=hammer/);
        await page.locator("#hits a").filter({ hasText: "Claw Hammer" }).click();
        await page.getByRole("heading", { level: 1, name: /Claw Hammer/ }).waitFor();
      });

      scenario("add-location-and-item", ADMIN, async (page, base, tag) => {
        await openLocation(page, base, "My House / Garage");
        await page.getByText("Add a sub-location").click();
        await page.locator("#child-name").fill(`Crate ${tag}`);
        await page.getByLabel("Type", { exact: true }).first().selectOption({ label: "Container" });
        await page.getByRole("button", { name: "Add sub-location" }).click();
        await page.getByRole("heading", { level: 1, name: new RegExp(`^Crate ${tag}`) }).waitFor();
        const crumbs = await page.getByRole("navigation", { name: "Breadcrumb" }).innerText();
        assert.match(crumbs, /My House[\s\S]*Garage[\s\S]*Crate/);
        await page.getByText("Add an item here").click();
        await page.locator("#item-name").fill(`Lantern ${tag}`);
        await page.locator("#item-quantity").fill("2");
        await page.getByRole("button", { name: "Add item" }).click();
        await page.locator("#items a").filter({ hasText: `Lantern ${tag}` }).waitFor();
      });

      scenario("move-item-with-picker", ADMIN, async (page, base, tag) => {
        // A box to move the demo's drill into.
        await openLocation(page, base, "My House / Bedroom / Wardrobe");
        await page.getByText("Add a sub-location").click();
        await page.locator("#child-name").fill(`Shoe Box ${tag}`);
        await page.getByRole("button", { name: "Add sub-location" }).click();
        await page.getByRole("heading", { level: 1, name: new RegExp(`^Shoe Box ${tag}`) }).waitFor();

        await page.goto(`${base}/`);
        await page.getByLabel("Search").fill("cordless drill");
        await page.locator("#hits a").filter({ hasText: "Cordless Drill" }).first().click();
        await page.getByRole("heading", { level: 1, name: /Cordless Drill/ }).waitFor();
        await page.locator("summary").filter({ hasText: /^Move/ }).click();
        const to = page.getByLabel("Move to (path)");
        await to.pressSequentially(`Wardrobe / Shoe Box ${tag}`, { delay: 20 });
        const pick = page.locator("#move-to-picks button.pick").filter({ hasText: `My House / Bedroom / Wardrobe / Shoe Box ${tag}` });
        await pick.click();
        assert.equal(await to.inputValue(), `My House / Bedroom / Wardrobe / Shoe Box ${tag}`);
        await page.getByRole("button", { name: "Move", exact: true }).click();
        await page.waitForURL(/done=moved/);
        assert.match(await page.locator("main").innerText(), new RegExp(`Shoe Box ${tag}`));
        // The box now holds the drill.
        await openLocation(page, base, `My House / Bedroom / Wardrobe / Shoe Box ${tag}`);
        await page.locator("#items a").filter({ hasText: "Cordless Drill" }).waitFor();
        // And back to its tool box, so that every scenario finds the demo home as it was.
        await page.locator("#items a").filter({ hasText: "Cordless Drill" }).click();
        await page.locator("summary").filter({ hasText: /^Move/ }).click();
        await page.getByLabel("Move to (path)").pressSequentially("Metal Shelf / Tool Box", { delay: 20 });
        await page.locator("#move-to-picks button.pick").filter({ hasText: "My House / Garage / Metal Shelf / Tool Box" }).click();
        await page.getByRole("button", { name: "Move", exact: true }).click();
        await page.waitForURL(/done=moved/);
        assert.match(await page.locator("main").innerText(), /Metal Shelf \/ Tool Box/);
      });

      scenario("delete-location-with-items", ADMIN, async (page, base, tag) => {
        await openLocation(page, base, "My House / Office");
        await page.getByText("Add a sub-location").click();
        await page.locator("#child-name").fill(`Archive ${tag}`);
        await page.getByRole("button", { name: "Add sub-location" }).click();
        await page.getByRole("heading", { level: 1, name: new RegExp(`^Archive ${tag}`) }).waitFor();
        for (const item of [`Tax papers ${tag}`, `Old letters ${tag}`]) {
          await page.getByText("Add an item here").click();
          await page.locator("#item-name").fill(item);
          await page.getByRole("button", { name: "Add item" }).click();
          await page.locator("#items a").filter({ hasText: item }).waitFor();
        }
        await page.locator("summary").filter({ hasText: /^Delete/ }).click();
        await page.getByLabel("Move them to Office").check();
        await page.getByRole("button", { name: `Delete Archive ${tag}` }).click();
        // Back at the parent, which now holds the items.
        await page.getByRole("heading", { level: 1, name: /^Office/ }).waitFor();
        const items = page.locator("#items");
        await items.locator("a").filter({ hasText: `Tax papers ${tag}` }).waitFor();
        await items.locator("a").filter({ hasText: `Old letters ${tag}` }).waitFor();
        const children = await page.locator("section[aria-labelledby=children-h]").innerText();
        assert.doesNotMatch(children, new RegExp(`Archive ${tag}`));
      });

      scenario("viewer-sees-no-write-action", VIEWER, async (page, base) => {
        const pages = [`${base}/`, `${base}/browse`, `${base}/categories`, `${base}/csv`];
        await openLocation(page, base, "My House / Garage / Metal Shelf / Tool Box");
        pages.push(page.url());
        await page.locator("#items a").first().click();
        await page.getByRole("heading", { level: 1 }).waitFor();
        pages.push(page.url());
        for (const url of pages) {
          await page.goto(url);
          const posts = await page.locator("form[method=post]").evaluateAll((fs) => fs.map((f) => f.getAttribute("action")));
          assert.deepEqual(posts.filter((a) => a !== "/logout"), [], `no write form on ${url}`);
          for (const label of ["Add an item here", "Add a sub-location", "Delete", "Move", "Import"]) {
            assert.equal(await page.locator("summary, button").filter({ hasText: new RegExp(`^${label}`) }).count(), 0, `no "${label}" on ${url}`);
          }
        }
        // And the server refuses a write with a valid session and token anyway.
        await page.goto(pages[4]);
        const csrf = await page.locator("input[name=_csrf]").first().inputValue();
        const status = await page.evaluate(async (csrf) => {
          const r = await fetch("/locations", {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ _csrf: csrf, name: "Sneaky", location_type: "HOUSE" }),
            redirect: "manual",
          });
          return r.status;
        }, csrf);
        assert.equal(status, 403);
        await page.goto(`${base}/?q=Sneaky`);
        assert.equal(await page.locator("#hits a").count(), 0, "nothing was written");
      });

      scenario("forged-post-without-csrf", ADMIN, async (page, base, tag) => {
        await openLocation(page, base, "My House / Kitchen");
        await page.getByText("Add a sub-location").click();
        await page.locator("#child-name").fill(`Forged ${tag}`);
        // The form as a forger would send it: the session cookie rides along, the token not.
        await page.locator("#add-child input[name=_csrf]").evaluate((e) => e.remove());
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === "POST"),
          page.getByRole("button", { name: "Add sub-location" }).click(),
        ]);
        assert.equal(response.status(), 403);
        // A wrong token is refused too.
        const status = await page.evaluate(async () => {
          const r = await fetch("/locations", {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ _csrf: "0".repeat(64), name: "Forged too", location_type: "HOUSE" }),
            redirect: "manual",
          });
          return r.status;
        });
        assert.equal(status, 403);
        await page.goto(`${base}/?q=Forged`);
        assert.equal(await page.locator("#hits a").count(), 0, "nothing was written");
      });
    }
  });
}
