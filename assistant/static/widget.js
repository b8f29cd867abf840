/* Verstetigungslotse widget, see docs/widget.md: <script src="https://LOTSE-HOST/widget.js" data-lang="de" defer>
 * No framework, no third-party requests, no secret; DOM APIs only (textContent/createElement), no HTML parsing. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src || window.__lotseWidget) return;
  window.__lotseWidget = 1;

  var base = new URL(".", me.src); // the API lives next to widget.js
  var api = new URL("api/chat", base).href;
  var lang = me.getAttribute("data-lang") === "en" ? "en" : "de";
  var side = me.getAttribute("data-position") === "left" ? "left" : "right";
  var MAX_Q = 1000, TURNS = 6;
  var T = {
    de: { title: "Verstetigungslotse", fab: "Lotse fragen", open: "Chat mit dem Verstetigungslotsen öffnen",
      close: "Chat schließen", label: "Ihre Frage", ph: "Frage zur Verstetigung stellen …", send: "Senden",
      intro: "Fragen Sie nach Erfahrungen der Modellprojekte Smart Cities. Jede Antwort nennt ihre Quellen.",
      note: "Bitte keine personenbezogenen Daten eingeben. Der Verlauf bleibt nur in diesem Browserfenster.",
      you: "Sie", bot: "Lotse", retrieving: "Suche in den Dokumenten …", generating: "Antwort wird formuliert …",
      sources: "Quellen", more: "Weitere Belege", page: "S.", section: "Abschnitt", doc: "Dokument öffnen", tab: "(öffnet in neuem Tab)",
      hint: "Hinweis: ", offline: "Der Lotse ist gerade nicht erreichbar. Bitte später erneut versuchen.",
      refused: "Diese Seite ist nicht berechtigt, den Verstetigungslotsen einzubinden.",
      busy: "Zu viele Anfragen. Bitte kurz warten und erneut versuchen.",
      broken: "Die Antwort wurde unterbrochen. Bitte erneut versuchen." },
    en: { title: "Verstetigungslotse", fab: "Ask the Lotse", open: "Open the Verstetigungslotse chat",
      close: "Close chat", label: "Your question", ph: "Ask about making pilots permanent …", send: "Send",
      intro: "Ask about the experience of the Smart Cities model projects. Every answer names its sources.",
      note: "Please do not enter personal data. The conversation stays in this browser window only.",
      you: "You", bot: "Lotse", retrieving: "Searching the documents …", generating: "Writing the answer …",
      sources: "Sources", more: "Further evidence", page: "p.", section: "section", doc: "Open document", tab: "(opens in a new tab)",
      hint: "Note: ", offline: "The Lotse cannot be reached right now. Please try again later.",
      refused: "This site is not allowed to embed the Verstetigungslotse.",
      busy: "Too many requests. Please wait a moment and try again.",
      broken: "The answer was interrupted. Please try again." }
  }[lang];
  var title = (me.getAttribute("data-title") || T.title).slice(0, 80);

  var CSS =
    ":host{all:initial!important;display:block!important}" +
    "*{box-sizing:border-box}" +
    ".w{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1b1b1b}" +
    "button,textarea{font:inherit;color:inherit}" +
    ".fab{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;display:flex;align-items:center;" +
    "gap:8px;padding:12px 18px;border:0;border-radius:28px;background:#0b4f8a;color:#fff;font-weight:600;" +
    "cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.3)}" +
    ".fab:hover{background:#083d6b}.fab svg{width:22px;height:22px;fill:currentColor}" +
    ":focus-visible{outline:3px solid #f2a900;outline-offset:2px}" +
    ".p{position:fixed;bottom:84px;" + side + ":20px;z-index:2147483001;width:400px;" +
    "height:min(640px,calc(100vh - 104px));display:flex;flex-direction:column;background:#fff;" +
    "border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.35);overflow:hidden}" +
    ".p[hidden]{display:none}" +
    ".h{display:flex;align-items:center;justify-content:space-between;padding:10px 12px 10px 16px;" +
    "background:#0b4f8a;color:#fff}" +
    "h2{margin:0;font-size:17px;font-weight:600}" +
    ".x{width:36px;height:36px;border:0;border-radius:6px;background:transparent;color:#fff;font-size:24px;" +
    "line-height:1;cursor:pointer}.x:hover{background:rgba(255,255,255,.18)}" +
    ".log{position:relative;flex:1;overflow-y:auto;padding:12px 14px;background:#f4f6f8}" +
    ".m{margin:0 0 12px;padding:10px 12px;border-radius:10px;background:#fff;border:1px solid #d5dbe1;" +
    "overflow-wrap:anywhere}" +
    ".u{margin-left:40px;background:#e3eef9;border-color:#b9d3ee}" +
    ".who{display:block;font-size:12px;font-weight:600;color:#44505c;margin-bottom:2px}" +
    ".t{white-space:pre-wrap}.ref{font-size:12px;font-weight:600;color:#0b4f8a}" +
    ".st{margin:0;font-size:13px;color:#44505c;font-style:italic}" +
    ".no{margin:8px 0 0;padding:6px 8px;font-size:13px;background:#fff6d6;border-left:3px solid #a36b00}" +
    ".err{color:#9b1c1c;font-weight:600;font-style:normal}" +
    ".src{margin-top:10px;border-top:1px solid #d5dbe1;padding-top:6px}" +
    ".sh{margin:0 0 4px;font-size:13px;font-weight:600}" +
    "ol,ul{margin:0;padding-left:0;list-style:none}li{margin:0 0 8px;font-size:13px}.qi{margin:6px 0 0}" +
    "blockquote{margin:4px 0;padding:2px 8px;border-left:3px solid #9fb3c8;color:#333;font-style:italic}" +
    "mark{background:#fde68a;color:#1a1a1a;font-style:normal;padding:0 1px}" +
    "details{margin:4px 0}summary{cursor:pointer;color:#1d4ed8}" +
    "a{color:#0b4f8a;font-weight:600}a:hover{color:#083d6b}" +
    "form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #d5dbe1;background:#fff}" +
    "textarea{flex:1;min-height:44px;max-height:120px;resize:vertical;padding:8px 10px;border:1px solid #6b7785;" +
    "border-radius:8px;background:#fff}" +
    ".s{padding:0 16px;border:0;border-radius:8px;background:#0b4f8a;color:#fff;font-weight:600;cursor:pointer}" +
    ".s:disabled{background:#5f6b76;cursor:wait}" +
    ".nt{margin:0;padding:0 12px 8px;font-size:12px;color:#44505c;background:#fff}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (max-width:480px){.p{inset:0;width:100%;height:100%;border-radius:0}" +
    ".fab{bottom:12px;" + side + ":12px}.u{margin-left:24px}}";

  function el(tag, cls, text, attrs) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  var host = el("div", null, null, { "data-lotse-widget": "" });
  var root = host.attachShadow({ mode: "open" });
  var w = el("div", "w", null, { lang: lang });
  var fab = el("button", "fab", null, { type: "button", "aria-label": T.fab + " – " + T.open,
    "aria-expanded": "false", "aria-controls": "lotse-panel" });
  var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg"), path = document.createElementNS(NS, "path");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h10V9H7zm0 4v2h7v-2H7z");
  svg.append(path);
  fab.append(svg, el("span", null, T.fab));

  var panel = el("div", "p", null, { id: "lotse-panel", role: "dialog", "aria-labelledby": "lotse-title" });
  panel.hidden = true;
  var x = el("button", "x", "×", { type: "button", "aria-label": T.close });
  var log = el("div", "log", null, { role: "log", "aria-live": "polite", tabindex: "0", "aria-label": title });
  log.append(el("p", "m", T.intro));
  var form = el("form", null, null, { novalidate: "" });
  var ta = el("textarea", null, null, { id: "lotse-q", rows: "2", maxlength: MAX_Q, placeholder: T.ph, enterkeyhint: "send" });
  var send = el("button", "s", T.send, { type: "submit" });
  form.append(el("label", "sr", T.label, { for: "lotse-q" }), ta, send);
  var head = el("div", "h");
  head.append(el("h2", null, title, { id: "lotse-title" }), x);
  panel.append(head, log, form, el("p", "nt", T.note));
  w.append(fab, panel);
  // A constructed stylesheet works under a strict style-src of the host page; <style> is the fallback.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (err) { root.append(el("style", null, CSS)); }
  root.append(w);

  function setOpen(open) {
    panel.hidden = !open;
    fab.setAttribute("aria-expanded", String(open));
    (open ? ta : fab).focus();
  }
  fab.addEventListener("click", function () { setOpen(panel.hidden); });
  x.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); setOpen(false); }
  });
  ta.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });

  var history = [], busy = false;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = ta.value.trim();
    if (!q || busy) return;
    ta.value = "";
    ask(q.slice(0, MAX_Q));
  });

  function scroll() { log.scrollTop = log.scrollHeight; }

  // Answer text as plain text; [n] markers become small spans, created with DOM APIs.
  function renderText(node, text) {
    node.textContent = "";
    String(text).split(/(\[\d{1,2}\])/).forEach(function (part, i) {
      node.append(i % 2 ? el("span", "ref", part) : part);
    });
  }

  // Only http(s) links on the Lotse's own origin: the documents route of the API base.
  function docUrl(u) {
    if (typeof u !== "string" || !u) return null;
    try { var url = new URL(u, base); } catch (err) { return null; }
    if (!/^https?:$/.test(url.protocol) || url.origin !== base.origin) return null;
    return url.href;
  }

  // The quote as text, with the span that answers the question (answer_span: offsets into the quote) marked.
  function quoteNode(c) {
    var q = String(c.quote), s = c.answer_span, bq = el("blockquote");
    bq.append("„");
    if (Array.isArray(s) && Number.isInteger(s[0]) && Number.isInteger(s[1]) && s[0] >= 0 && s[0] < s[1] &&
        s[1] <= q.length) {
      bq.append(q.slice(0, s[0]), el("mark", null, q.slice(s[0], s[1])), q.slice(s[1]));
    } else {
      bq.append(q);
    }
    bq.append("“");
    return bq;
  }

  // One card per document (by source, in order of first citation); each quote keeps its own [n] and link.
  function num(c) { return parseInt(c.n, 10) || "?"; }

  function card(doc) {
    var f = doc[0], li = el("li", "card"), qs = el("ul"), pub = [f.publisher, f.year].filter(Boolean).join(", ");
    li.append(el("span", "ref", "[" + doc.map(num).join(", ") + "] "),
      el("strong", null, f.title || f.source || ""), pub ? " (" + pub + ")" : "", qs);
    doc.forEach(function (c) {
      var q = el("li", "qi"), href = docUrl(c.url);
      var where = [c.page && T.page + " " + c.page, c.section && T.section + " „" + c.section + "“"].filter(Boolean);
      q.append(el("span", "ref", "[" + num(c) + "]"), where.length ? " " + where.join(", ") : "");
      if (c.quote) q.append(quoteNode(c));
      if (href) {
        var a = el("a", null, T.doc, { target: "_blank", rel: "noopener noreferrer" });
        a.href = href;
        a.append(el("span", "sr", " " + (c.title || "") + " " + T.tab));
        q.append(a);
      }
      qs.append(q);
    });
    return li;
  }

  // The card of [1] shows; the other documents wait behind "Weitere Belege".
  function renderSources(box, cites) {
    box.textContent = "";
    var by = new Map(), docs, wrap = el("div", "src"), ol = el("ol");
    (Array.isArray(cites) ? cites : []).forEach(function (c) {
      if (c && typeof c === "object") (by.get(c.source) || by.set(c.source, []).get(c.source)).push(c);
    });
    if (!(docs = Array.from(by.values())).length) return;
    ol.append(card(docs[0]));
    wrap.append(el("p", "sh", T.sources), ol);
    if (docs.length > 1) {
      var more = el("details", "more"), rest = el("ol", null, null, { start: "2" });
      more.append(el("summary", null, T.more + " (" + (cites.length - docs[0].length) + ")"), rest);
      docs.slice(1).forEach(function (d) { rest.append(card(d)); });
      wrap.append(more);
    }
    box.append(wrap);
  }

  function message(cls, who) {
    var m = el("div", "m " + cls);
    m.append(el("span", "who", who));
    log.append(m);
    scroll();
    return m;
  }

  function errText(status, body) {
    if (body && typeof body.error === "string") return lang === "en" && body.error_en ? body.error_en : body.error;
    return status === 429 ? T.busy : status === 403 ? T.refused : T.broken + " (" + status + ")";
  }

  async function ask(q) {
    busy = true;
    send.disabled = true;
    var u = message("u", T.you);
    u.append(el("span", "t", q));
    var m = message("b", T.bot), st = el("p", "st", T.retrieving), txt = el("div", "t"), notes = el("div"), src = el("div");
    m.setAttribute("aria-busy", "true");
    m.append(st, txt, notes, src);
    var answer = "", shown = {}, finished = false;
    function notice(s) {
      if (typeof s !== "string" || shown[s]) return;
      shown[s] = 1;
      notes.append(el("p", "no", T.hint + s));
    }
    function fail(s) { st.className = "st err"; st.textContent = s; st.setAttribute("role", "alert"); finished = true; scroll(); }
    function handle(ev, data) {
      if (ev === "status") st.textContent = data && data.stage === "generating" ? T.generating : T.retrieving;
      else if (ev === "token" && typeof data === "string") { answer += data; txt.textContent = answer; }
      else if (ev === "reset") { answer = ""; txt.textContent = ""; }
      else if (ev === "notice") notice(data);
      else if (ev === "citations") renderSources(src, data);
      else if (ev === "error") fail(errText(0, data));
      else if (ev === "done" && data) {
        finished = true;
        st.remove();
        answer = typeof data.answer === "string" ? data.answer : answer;
        renderText(txt, answer);
        (data.notices || []).forEach(notice);
        renderSources(src, data.citations);
        history.push({ role: "user", content: q }, { role: "assistant", content: answer.slice(0, 2000) });
        history = history.slice(-TURNS);
        log.scrollTop = m.offsetTop - 8; // start of the answer, sources below
      } else scroll();
    }
    var ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, 120000);
    try {
      var res;
      try {
        res = await fetch(api, {
          method: "POST", mode: "cors", credentials: "omit", referrerPolicy: "no-referrer", signal: ctl.signal,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question: q, history: history.slice(-TURNS), lang: lang })
        });
      } catch (err) {
        if (ctl.signal.aborted) return fail(T.broken);
        // A refused origin looks like a network error to the page; an opaque probe tells the two apart.
        try {
          await fetch(new URL("api/health", base).href, { mode: "no-cors", credentials: "omit", referrerPolicy: "no-referrer" });
          return fail(T.refused);
        } catch (err2) { return fail(T.offline); }
      }
      if (!res.ok) {
        var body = null;
        try { body = await res.json(); } catch (err) { /* not JSON */ }
        return fail(errText(res.status, body));
      }
      var reader = res.body.getReader(), dec = new TextDecoder(), buf = "", ev = "message", data = [];
      for (;;) {
        var r = await reader.read();
        buf += r.done ? dec.decode() + "\n\n" : dec.decode(r.value, { stream: true });
        var lines = buf.split("\n");
        buf = lines.pop();
        for (var i = 0; i < lines.length; i++) {
          var line = lines[i].replace(/\r$/, "");
          if (!line) {
            if (data.length) {
              var parsed = null;
              try { parsed = JSON.parse(data.join("\n")); } catch (err) { /* ignore malformed event */ }
              handle(ev, parsed);
            }
            ev = "message";
            data = [];
          } else if (line.indexOf("event:") === 0) ev = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (r.done) break;
      }
      if (!finished) fail(T.broken);
    } catch (err) {
      fail(T.broken);
    } finally {
      clearTimeout(timer);
      m.removeAttribute("aria-busy");
      busy = false;
      send.disabled = false;
    }
  }

  function mount() { document.body.append(host); }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
