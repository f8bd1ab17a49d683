// The API reference page: renders /api/openapi.json (operations by tag, descriptions, roles,
// parameters, examples) and lets a person try an operation on this same origin. No library.
"use strict";

const L = (zh, en) => `${zh} / ${en}`;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// Text with `code` spans and paragraphs; everything else stays text (never HTML).
function prose(text) {
  const box = el("div");
  for (const para of String(text || "").split(/\n\s*\n/)) {
    if (!para.trim()) continue;
    const p = el("p");
    para.split(/(`[^`]+`)/).forEach((part) => {
      if (part.startsWith("`") && part.endsWith("`") && part.length > 1) p.append(el("code", { text: part.slice(1, -1) }));
      else p.append(document.createTextNode(part));
    });
    box.append(p);
  }
  return box;
}

function json(value) {
  return el("pre", { text: typeof value === "string" ? value : JSON.stringify(value, null, 2) });
}

function resolve(spec, schema) {
  let current = schema || {};
  for (let i = 0; i < 10 && current.$ref; i++) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = path.reduce((node, key) => (node || {})[key], spec) || {};
  }
  return current;
}

function schemaTable(spec, schema) {
  const resolved = resolve(spec, schema);
  const props = resolved.properties || {};
  if (!Object.keys(props).length) return null;
  const table = el("table", {}, el("tr", {}, el("th", { text: L("字段", "Field") }), el("th", { text: L("类型", "Type") }), el("th", { text: L("说明", "Meaning") })));
  for (const [name, raw] of Object.entries(props)) {
    const prop = resolve(spec, raw);
    const type = raw.$ref ? raw.$ref.split("/").pop() : [].concat(prop.type || (prop.enum ? "enum" : "")).join(" | ");
    const meaning = [prop.description || raw.description || "", prop.enum ? `(${prop.enum.join(", ")})` : ""].join(" ").trim();
    table.append(el("tr", {}, el("td", {}, el("code", { text: name })), el("td", { text: type }), el("td", { text: meaning })));
  }
  return table;
}

function examples(title, media) {
  const box = el("div");
  const named = (media && media.examples) || {};
  for (const example of Object.values(named)) {
    box.append(el("details", {}, el("summary", { text: `${title}: ${example.summary || ""}` }), json(example.value)));
  }
  return box;
}

function tryIt(op, path, method) {
  const form = el("form", { class: "try" });
  const params = (op.parameters || []).filter((p) => p.in === "path" || p.in === "query");
  const inputs = {};
  for (const param of params) {
    const id = `${op.operationId}-${param.name}`;
    inputs[param.name] = el("input", { id, name: param.name });
    form.append(el("label", { for: id, text: `${param.name} (${param.in})` }), inputs[param.name], el("br"));
  }
  let body = null;
  if (op.requestBody) {
    const media = Object.values(op.requestBody.content || {})[0] || {};
    const first = Object.values(media.examples || {})[0];
    const id = `${op.operationId}-body`;
    body = el("textarea", { id });
    body.value = first ? (typeof first.value === "string" ? first.value : JSON.stringify(first.value, null, 2)) : "";
    form.append(el("label", { for: id, text: L("请求正文", "Request body") }), body);
  }
  const out = el("pre", { "aria-live": "polite" });
  const button = el("button", { type: "submit", text: L("发送", "Send") });
  form.append(button, out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let url = path.replace(/\{([^}]+)\}/g, (_, name) => encodeURIComponent(inputs[name] ? inputs[name].value : ""));
    const query = params.filter((p) => p.in === "query" && inputs[p.name].value).map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(inputs[p.name].value)}`);
    if (query.length) url += `?${query.join("&")}`;
    const headers = { "Accept-Language": document.documentElement.lang };
    const key = document.getElementById("key").value;
    if (key) headers["x-functions-key"] = key;
    const media = op.requestBody ? Object.keys(op.requestBody.content || {})[0] : null;
    if (media) headers["Content-Type"] = media;
    try {
      const answer = await fetch(url.replace(/^\//, ""), { method: method.toUpperCase(), headers, body: body ? body.value : undefined, credentials: "same-origin" });
      const text = await answer.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
      out.textContent = `${answer.status} ${answer.statusText}\n${shown}`;
    } catch (error) {
      out.textContent = String(error);
    }
  });
  return el("details", {}, el("summary", { text: L("试一试（本站）", "Try it (this origin)") }), form);
}

function render(spec) {
  document.getElementById("intro").replaceChildren(prose(spec.info.summary || ""));
  const nav = document.getElementById("nav");
  const main = document.getElementById("ops");
  const byTag = {};
  for (const [path, ops] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(ops)) {
      if (typeof op !== "object" || !op.operationId) continue;
      const tag = (op.tags || ["other"])[0];
      (byTag[tag] = byTag[tag] || []).push({ path, method, op });
    }
  }
  for (const [tag, entries] of Object.entries(byTag)) {
    nav.append(el("h2", { text: tag }));
    for (const { path, method, op } of entries) {
      const id = `op-${op.operationId}`;
      nav.append(el("a", { href: `#${id}`, text: `${method.toUpperCase()} ${path}` }));
      const section = el("section", { class: "op", id, "aria-labelledby": `${id}-h` });
      section.append(
        el("h3", { id: `${id}-h` }, el("span", { class: "method", text: method }), el("span", { class: "path", text: `/api${path}` })),
        el("p", {}, el("strong", { text: op.summary || "" })),
        el("p", { class: "role", text: `${L("所需角色", "Role needed")}: ${op["x-required-role"] || "-"}` }),
        prose(op.description),
      );
      if ((op.parameters || []).length) {
        const table = el("table", {}, el("tr", {}, el("th", { text: L("参数", "Parameter") }), el("th", { text: L("位置", "In") }), el("th", { text: L("说明", "Meaning") })));
        for (const param of op.parameters.map((p) => resolve(spec, p))) {
          table.append(el("tr", {}, el("td", {}, el("code", { text: param.name })), el("td", { text: param.in }), el("td", { text: param.description || "" })));
        }
        section.append(table);
      }
      if (op.requestBody) {
        const media = Object.values(op.requestBody.content || {})[0] || {};
        section.append(el("h4", { text: L("请求", "Request") }), schemaTable(spec, media.schema) || el("span"), examples(L("示例请求", "Example request"), media));
      }
      section.append(el("h4", { text: L("应答", "Answers") }));
      for (const [status, response] of Object.entries(op.responses || {})) {
        const media = Object.values(response.content || {})[0];
        section.append(el("p", {}, el("code", { text: status }), document.createTextNode(` ${response.description || ""}`)), examples(L("示例应答", "Example answer"), media));
      }
      section.append(tryIt(op, path, method));
      main.append(section);
    }
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    const answer = await fetch("openapi.json", { credentials: "same-origin" });
    render(await answer.json());
  } catch (error) {
    document.getElementById("intro").textContent = `${L("无法读取规范", "Cannot read the specification")}: ${error}`;
  }
});
