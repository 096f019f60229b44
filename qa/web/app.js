/* The question page: a conversation (follow-up questions read with the earlier ones), answers streaming in,
 * the cited passages, feedback. Only the conversation's id is kept in the tab (sessionStorage); after a reload
 * its turns are read back from the server.
 * Plain JS, no build step. Every text that comes from the server or the documents is inserted with
 * textContent / text nodes, never as HTML. */
"use strict";

(function () {
  const TEXT = {
    nl: {
      title: "Digitalisering en je rechten",
      skip: "Naar de vraag",
      intro: "Stel je vraag in het Nederlands of het Frans. Elk antwoord verwijst naar de documenten van de vakbond.",
      mode: "Weergave", member: "Lid", helpdesk: "Helpdesk",
      apiKey: "API-sleutel (helpdesk)", apiKeyHint: "Alleen bewaard in dit tabblad, tot je het sluit.",
      question: "Je vraag", questionHint: "Enter om te versturen, Shift+Enter voor een nieuwe regel.",
      ask: "Vraag stellen", answerHeading: "Antwoord",
      searching: "Bezig met zoeken in de documenten…", drafting: "Concept, wordt nog gecontroleerd…",
      done: "Het antwoord is klaar.", empty: "Typ eerst een vraag.",
      sources: "Bronnen", notInSources: "Dit staat niet in de bronnen", seeAlso: "Zie ook",
      unverified: "niet bevestigd door de bronnen",
      unverifiedList: "Controleer deze zinnen: de bronnen bevestigen ze niet",
      draftLabel: "Conceptantwoord (bewerkbaar)", copy: "Kopiëren", copied: "Gekopieerd naar het klembord.",
      copyFailed: "Kopiëren lukte niet: selecteer de tekst en kopieer hem zelf.",
      open: "Open bron", page: "p.", close: "Sluiten", passage: "Passage",
      feedbackQ: "Was dit antwoord nuttig?", up: "Ja, nuttig", down: "Nee, niet nuttig",
      comment: "Opmerking (niet verplicht)", consent: "Bewaar mijn vraag bij mijn feedback",
      send: "Feedback versturen", thanks: "Bedankt voor je feedback.", chooseVote: "Kies eerst ja of nee.",
      error: "Er ging iets mis: ", busy: "Het is even druk. Probeer het over {s} seconden opnieuw.",
      needKey: "Hiervoor is een geldige API-sleutel nodig.", offline: "De dienst is niet bereikbaar.",
      footer: "Dit is geen juridisch advies. Neem bij twijfel contact op met je vakbond.",
      newConversation: "Nieuw gesprek", asked: "Je vroeg", newStarted: "Een nieuw gesprek is begonnen.",
      expired: "Het vorige gesprek is verlopen; je vraag begint een nieuw gesprek.",
    },
    fr: {
      title: "La digitalisation et vos droits",
      skip: "Aller à la question",
      intro: "Posez votre question en français ou en néerlandais. Chaque réponse renvoie aux documents du syndicat.",
      mode: "Affichage", member: "Affilié", helpdesk: "Helpdesk",
      apiKey: "Clé API (helpdesk)", apiKeyHint: "Conservée uniquement dans cet onglet, jusqu'à sa fermeture.",
      question: "Votre question", questionHint: "Entrée pour envoyer, Maj+Entrée pour aller à la ligne.",
      ask: "Poser la question", answerHeading: "Réponse",
      searching: "Recherche dans les documents…", drafting: "Brouillon, en cours de vérification…",
      done: "La réponse est prête.", empty: "Tapez d'abord une question.",
      sources: "Sources", notInSources: "Les documents ne répondent pas à cette question", seeAlso: "Voir aussi",
      unverified: "non confirmé par les sources",
      unverifiedList: "Vérifiez ces phrases : les sources ne les confirment pas",
      draftLabel: "Projet de réponse (modifiable)", copy: "Copier", copied: "Copié dans le presse-papiers.",
      copyFailed: "La copie a échoué : sélectionnez le texte et copiez-le vous-même.",
      open: "Ouvrir la source", page: "p.", close: "Fermer", passage: "Passage",
      feedbackQ: "Cette réponse vous a-t-elle aidé ?", up: "Oui, utile", down: "Non, pas utile",
      comment: "Commentaire (facultatif)", consent: "Conserver ma question avec mon avis",
      send: "Envoyer mon avis", thanks: "Merci pour votre avis.", chooseVote: "Choisissez d'abord oui ou non.",
      error: "Une erreur s'est produite : ", busy: "Le service est très sollicité. Réessayez dans {s} secondes.",
      needKey: "Une clé API valide est nécessaire.", offline: "Le service est injoignable.",
      footer: "Ceci n'est pas un avis juridique. En cas de doute, contactez votre syndicat.",
      newConversation: "Nouvelle conversation", asked: "Vous avez demandé",
      newStarted: "Une nouvelle conversation a commencé.",
      expired: "La conversation précédente a expiré ; votre question en commence une nouvelle.",
    },
  };
  const KEY_STORE = "qa.apiKey";
  const LANG_STORE = "qa.uiLang";
  const CONVERSATION_STORE = "qa.conversationId";  // the id only: the text stays on the server

  const $ = (id) => document.getElementById(id);
  const state = { lang: "nl", mode: "member", controller: null, opener: null, conversationId: null };

  function t(key, lang) {
    const table = TEXT[lang || state.lang] || TEXT.nl;
    return key in table ? table[key] : TEXT.nl[key] || key;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "i18n") { node.dataset.i18n = value; node.textContent = t(value); }
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ------------------------------------------------------------------ language and mode

  function applyLanguage(lang) {
    state.lang = TEXT[lang] ? lang : "nl";
    document.documentElement.lang = state.lang;
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const button of document.querySelectorAll("button.lang")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
    }
    try { localStorage.setItem(LANG_STORE, state.lang); } catch (e) { /* storage may be off */ }
  }

  function initialLanguage() {
    let saved = null;
    try { saved = localStorage.getItem(LANG_STORE); } catch (e) { /* ignore */ }
    if (saved && TEXT[saved]) return saved;
    const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "nl"];
    for (const l of langs) {
      const code = String(l).toLowerCase().slice(0, 2);
      if (TEXT[code]) return code;
    }
    return "nl";
  }

  function applyMode(mode) {
    state.mode = mode === "helpdesk" ? "helpdesk" : "member";
    for (const button of document.querySelectorAll("button.mode")) {
      button.setAttribute("aria-pressed", String(button.dataset.mode === state.mode));
    }
    $("key-box").hidden = state.mode !== "helpdesk" && !$("api-key").value;
    document.body.classList.toggle("helpdesk", state.mode === "helpdesk");
  }

  function apiKey() {
    return $("api-key").value.trim();
  }

  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    const key = apiKey();
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }

  function setStatus(message, isError) {
    const status = $("status");
    status.textContent = message || "";
    status.classList.toggle("error", Boolean(isError));
  }

  // ------------------------------------------------------------------ asking

  async function errorMessage(response) {
    let detail = "";
    try { detail = (await response.json()).detail || ""; } catch (e) { /* not JSON */ }
    if (response.status === 503 && response.headers.get("Retry-After")) {
      return t("busy").replace("{s}", response.headers.get("Retry-After"));
    }
    if (response.status === 401 || response.status === 403) {
      $("key-box").hidden = false;
      return t("needKey") + (detail ? " (" + detail + ")" : "");
    }
    return t("error") + (detail || response.status + " " + response.statusText);
  }

  async function* sseEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let match;
      while ((match = buffer.match(/\r\n\r\n|\n\n|\r\r/))) {
        const block = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const event = parseEvent(block);
        if (event) yield event;
      }
    }
  }

  function parseEvent(block) {
    let name = "message";
    const data = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    return data.length ? { event: name, data: data.join("\n") } : null;
  }

  // ------------------------------------------------------------------ the conversation

  function rememberConversation(id) {
    state.conversationId = id || null;
    try {
      if (id) sessionStorage.setItem(CONVERSATION_STORE, id);
      else sessionStorage.removeItem(CONVERSATION_STORE);
    } catch (e) { /* storage may be off: the conversation then lasts until the page is left */ }
  }

  function conversationUrl(id) {
    return "v1/conversations/" + encodeURIComponent(id);
  }

  function showThread() {
    const any = $("answer").childElementCount > 0;
    $("result").hidden = !any && $("draft").hidden;
    $("new-conversation").hidden = !any;
  }

  /* A new conversation: the old one is deleted on the server (the member has left it) and the thread cleared. */
  function newConversation() {
    const old = state.conversationId;
    if (state.controller) state.controller.abort();
    rememberConversation(null);
    $("answer").replaceChildren();
    showThread();
    setStatus(t("newStarted"));
    $("question").focus();
    if (old) fetch(conversationUrl(old), { method: "DELETE", headers: headers() }).catch(() => {});
  }

  /* After a reload: the turns of the conversation kept in this tab, read back from the server. */
  async function restoreConversation() {
    let id = null;
    try { id = sessionStorage.getItem(CONVERSATION_STORE); } catch (e) { /* ignore */ }
    if (!id) return;
    try {
      const response = await fetch(conversationUrl(id), { headers: headers() });
      if (!response.ok) {  // expired or deleted: start afresh
        if (response.status === 404) rememberConversation(null);
        return;
      }
      const conversation = await response.json();
      state.conversationId = id;
      for (const turn of conversation.turns || []) {
        if (turn.answer && typeof turn.answer === "object") renderAnswer(turn.answer, turn.question || "");
      }
      showThread();
    } catch (e) { /* offline: the next question starts a new conversation if this one is gone */ }
  }

  async function ask(question, retried) {
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    const result = $("result");
    const draft = $("draft");
    const draftText = $("draft-text");
    draftText.textContent = "";
    draft.hidden = true;
    result.hidden = false;
    result.setAttribute("aria-busy", "true");
    $("ask-button").disabled = true;
    setStatus(t("searching"));
    try {
      const response = await fetch("v1/ask", {
        method: "POST",
        headers: headers({ Accept: "text/event-stream" }),
        body: JSON.stringify({ question: question, mode: state.mode, stream: true,
          conversation_id: state.conversationId || undefined }),
        signal: controller.signal,
      });
      if (response.status === 404 && state.conversationId && !retried) {
        // The conversation expired on the server: the question starts a new one.
        rememberConversation(null);
        $("answer").replaceChildren();
        state.controller = null;
        await ask(question, true);
        setStatus(t("expired"));
        return;
      }
      if (!response.ok) {
        setStatus(await errorMessage(response), true);
        showThread();
        return;
      }
      let final = null;
      let failed = false;
      for await (const event of sseEvents(response)) {
        if (event.event === "draft") {
          const piece = JSON.parse(event.data).text || "";
          if (draft.hidden) { draft.hidden = false; setStatus(t("drafting")); }
          draftText.append(document.createTextNode(piece));
        } else if (event.event === "final") {
          final = JSON.parse(event.data);
        } else if (event.event === "error") {
          const err = JSON.parse(event.data);
          failed = true;
          setStatus(t("error") + (err.detail || ""), true);
        }
      }
      draft.hidden = true;
      draftText.textContent = "";
      if (final) {
        if (final.conversation_id) rememberConversation(final.conversation_id);
        const turn = renderAnswer(final, question);
        $("question").value = "";
        setStatus(t("done"));
        turn.scrollIntoView({ block: "nearest" });
      } else if (!failed) {
        setStatus(t("offline"), true);  // the stream ended without an answer
      }
    } catch (e) {
      if (e.name !== "AbortError") setStatus(t("offline") + " (" + e.message + ")", true);
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        $("ask-button").disabled = false;
        result.setAttribute("aria-busy", "false");
        showThread();
      }
    }
  }

  // ------------------------------------------------------------------ rendering an answer

  function citationButton(n, citation, lang) {
    return el("button", {
      type: "button", class: "cite", "data-n": String(n),
      "aria-label": t("open", lang) + " " + n + ": " + (citation.title || citation.doc),
      onclick: (e) => openPassage(citation, e.currentTarget),
    }, "[" + n + "]");
  }

  /* Text with its [n] markers turned into buttons that open the cited passage. */
  function withCitations(text, byN, lang) {
    const frag = document.createDocumentFragment();
    const marker = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
    let last = 0;
    let m;
    while ((m = marker.exec(text))) {
      const numbers = m[1].split(/\s*[,;]\s*/).map(Number);
      if (!numbers.every((n) => byN.has(n))) continue;
      frag.append(document.createTextNode(text.slice(last, m.index)));
      numbers.forEach((n) => frag.append(citationButton(n, byN.get(n), lang)));
      last = m.index + m[0].length;
    }
    frag.append(document.createTextNode(text.slice(last)));
    return frag;
  }

  /* [start, end) ranges of the answer text held by sentences the verifier did not confirm. */
  function unverifiedRanges(answer) {
    const ranges = [];
    let cursor = 0;
    for (const s of answer.sentences || []) {
      if (!s.text) continue;
      const at = answer.answer.indexOf(s.text, cursor);
      if (at < 0) continue;
      if (!s.verified) ranges.push([at, at + s.text.length]);
      cursor = at + s.text.length;
    }
    return ranges;
  }

  function answerBody(answer, byN) {
    const lang = answer.language;
    const body = el("div", { class: "answer-text", lang: lang });
    const text = answer.answer || "";
    let last = 0;
    for (const [start, end] of unverifiedRanges(answer)) {
      body.append(withCitations(text.slice(last, start), byN, lang));
      body.append(el("span", { class: "unverified" },
        withCitations(text.slice(start, end), byN, lang),
        el("span", { class: "visually-hidden", text: " (" + t("unverified", lang) + ")" })));
      last = end;
    }
    body.append(withCitations(text.slice(last), byN, lang));
    return body;
  }

  function sourceLine(item, lang) {
    const parts = [item.title || item.doc];
    if (item.page) parts.push(t("page", lang) + " " + item.page);
    return parts.join(", ");
  }

  function citationList(answer, byN, withQuotes) {
    const lang = answer.language;
    const list = el("ol", { class: "sources" });
    for (const c of answer.citations) {
      const item = el("li", { value: String(c.n) },
        citationButton(c.n, c, lang), " ", el("span", { class: "source-title", text: sourceLine(c, lang) }));
      if (withQuotes && c.quote) item.append(el("blockquote", { class: "quote", lang: c.language || lang, text: c.quote }));
      const why = Array.isArray(c.why) ? c.why.filter((w) => typeof w === "string").join(" · ") : c.why;
      if (typeof why === "string" && why.trim()) item.append(el("p", { class: "why", lang: lang, text: why }));
      list.append(item);
    }
    return list;
  }

  function normalised(text) {
    return String(text || "").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  }

  function renderAnswer(answer, question) {
    const lang = answer.language || state.lang;
    const byN = new Map(answer.citations.map((c) => [c.n, c]));
    const helpdesk = state.mode === "helpdesk" || answer.mode === "helpdesk";
    const box = el("article", { class: "answer" + (answer.abstained ? " abstained" : ""), lang: lang });
    let area = null;
    if (answer.abstained) box.append(el("h3", { class: "not-found", text: t("notInSources", lang) }));
    if (helpdesk) {
      const id = "draft-" + Math.random().toString(36).slice(2);
      area = el("textarea", { id: id, class: "reply", rows: "8", lang: lang });
      area.value = answer.answer || "";
      area.addEventListener("input", () => fitHeight(area));
      const copyStatus = el("p", { class: "hint", role: "status" });
      box.append(el("label", { for: id, text: t("draftLabel", lang) }), area,
        el("div", { class: "actions" },
          el("button", { type: "button", class: "copy", onclick: () => copy(area, copyStatus) }, t("copy", lang))),
        copyStatus);
      const unverified = (answer.sentences || []).filter((s) => !s.verified);
      if (unverified.length) {
        const warn = el("div", { class: "warning" }, el("h4", { text: t("unverifiedList", lang) }));
        const list = el("ul");
        unverified.forEach((s) => list.append(el("li", { class: "unverified", text: s.text })));
        warn.append(list);
        box.append(warn);
      }
      if (answer.citations.length) box.append(el("h4", { text: t("sources", lang) }), citationList(answer, byN, true));
    } else {
      // An abstention's text often just repeats the heading: show it only when it says more.
      if (!answer.abstained || normalised(answer.answer) !== normalised(t("notInSources", lang))) {
        box.append(answerBody(answer, byN));
      }
      if (answer.citations.length) box.append(el("h4", { text: t("sources", lang) }), citationList(answer, byN, false));
    }
    if (answer.abstained && answer.see_also && answer.see_also.length) {
      box.append(el("h4", { text: t("seeAlso", lang) }));
      const list = el("ul", { class: "see-also" });
      for (const hit of answer.see_also) {
        list.append(el("li", {},
          el("button", { type: "button", class: "link", onclick: (e) => openPassage(hit, e.currentTarget) },
            sourceLine(hit, lang)),
          el("p", { class: "snippet", lang: hit.language || lang, text: snippet(hit.text) })));
      }
      box.append(list);
    }
    box.append(feedbackForm(answer, question));
    const turn = el("div", { class: "turn" },
      el("p", { class: "asked", lang: lang }, el("span", { class: "visually-hidden", text: t("asked", lang) + ": " }),
        question), box);
    $("answer").append(turn);
    if (area) fitHeight(area);
    return turn;
  }

  function fitHeight(area) {
    area.style.height = "auto";
    area.style.height = Math.min(area.scrollHeight + 6, Math.max(240, window.innerHeight * 0.8)) + "px";
  }

  function snippet(text) {
    const s = String(text || "").replace(/\s+/g, " ").trim();
    return s.length > 220 ? s.slice(0, 217) + "…" : s;
  }

  async function copy(area, status) {
    const text = area.value;
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch (e) { ok = false; }
    if (!ok) {
      area.focus();
      area.select();
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    }
    status.textContent = ok ? t("copied") : t("copyFailed");
  }

  // ------------------------------------------------------------------ the passage panel

  function codePoints(text) { return Array.from(text || ""); }

  /* Split the passage around the supporting quote; offsets count code points (Python string indices). */
  function highlighted(text, quote, start, end) {
    const cps = codePoints(text);
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= cps.length) {
      const piece = cps.slice(start, end).join("");
      if (!quote || piece === quote) return [cps.slice(0, start).join(""), piece, cps.slice(end).join("")];
    }
    const at = quote ? text.indexOf(quote) : -1;
    if (at >= 0) return [text.slice(0, at), quote, text.slice(at + quote.length)];
    return [text, "", ""];
  }

  function fillPassage(item) {
    const [before, quote, after] = highlighted(item.text || "", item.quote, item.quote_start, item.quote_end);
    const passage = $("panel-passage");
    passage.setAttribute("lang", item.language || "");
    passage.replaceChildren(document.createTextNode(before));
    if (quote) passage.append(el("mark", { text: quote }));
    passage.append(document.createTextNode(after));
  }

  function fillMeta(item, extra) {
    const parts = [];
    if (extra && extra.publisher) parts.push(extra.publisher);
    if (extra && extra.date) parts.push(extra.date);
    if (item.page) parts.push(t("page") + " " + item.page);
    parts.push(item.doc);
    $("panel-meta").textContent = parts.join(" · ");
  }

  async function openPassage(item, opener) {
    state.opener = opener || null;
    const panel = $("panel");
    $("panel-title").textContent = (item.n ? "[" + item.n + "] " : "") + (item.title || item.doc);
    fillMeta(item, null);
    fillPassage(item);
    panel.hidden = false;
    $("panel-title").focus();
    const mark = panel.querySelector("mark");
    if (mark) mark.scrollIntoView({ block: "center" });
    try {
      const url = "v1/documents/" + item.doc.split("/").map(encodeURIComponent).join("/") +
        "/chunks/" + encodeURIComponent(item.chunk_id);
      const response = await fetch(url, { headers: headers() });
      if (response.ok) {
        const chunk = await response.json();
        if (!panel.hidden) fillMeta(Object.assign({}, item, { page: chunk.page || item.page }), chunk);
      }
    } catch (e) { /* the passage is shown already; the publisher is a nicety */ }
  }

  function closePanel() {
    $("panel").hidden = true;
    if (state.opener && document.body.contains(state.opener)) state.opener.focus();
    state.opener = null;
  }

  // ------------------------------------------------------------------ feedback

  const SVG = "http://www.w3.org/2000/svg";
  const THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

  /* A thumb icon drawn inline (no emoji font needed); decorative, the button's text says what it means. */
  function thumb(down) {
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "thumb");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", THUMB);
    path.setAttribute("fill", "currentColor");
    if (down) path.setAttribute("transform", "rotate(180 12 12)");
    svg.append(path);
    return svg;
  }

  function feedbackForm(answer, question) {
    const uid = Math.random().toString(36).slice(2);
    let vote = null;
    const status = el("p", { class: "hint", role: "status" });
    const buttons = ["up", "down"].map((v) => el("button", {
      type: "button", class: "vote vote-" + v, "aria-pressed": "false", "data-vote": v,
      onclick: (e) => {
        vote = v;
        buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === e.currentTarget)));
      },
    }, thumb(v === "down"), el("span", { i18n: v })));
    const comment = el("textarea", { id: "comment-" + uid, rows: "2", maxlength: "4000" });
    const consent = el("input", { id: "consent-" + uid, type: "checkbox" });
    const form = el("form", { class: "feedback", novalidate: true },
      el("fieldset", {},
        el("legend", { i18n: "feedbackQ" }),
        el("div", { class: "votes" }, ...buttons),
        el("label", { for: "comment-" + uid, i18n: "comment" }), comment,
        el("div", { class: "check" }, consent, el("label", { for: "consent-" + uid, i18n: "consent" })),
        el("div", { class: "actions" }, el("button", { type: "submit", i18n: "send" })),
        status));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!vote) { status.textContent = t("chooseVote"); return; }
      const body = {
        answer_id: answer.answer_id || null,
        answer: {
          answer: answer.answer, language: answer.language, abstained: answer.abstained, mode: answer.mode,
          generator: answer.generator, answer_id: answer.answer_id || null,
          citations: answer.citations.map((c) => ({ n: c.n, doc: c.doc, chunk_id: c.chunk_id })),
        },
        consent: consent.checked, vote: vote, comment: comment.value.trim() || null,
      };
      if (consent.checked) body.question = question;
      try {
        const response = await fetch("v1/feedback", { method: "POST", headers: headers(), body: JSON.stringify(body) });
        if (!response.ok) { status.textContent = await errorMessage(response); return; }
        status.textContent = t("thanks");
        form.querySelectorAll("button, textarea, input").forEach((n) => { n.disabled = true; });
      } catch (err) {
        status.textContent = t("offline");
      }
    });
    return form;
  }

  // ------------------------------------------------------------------ start

  function init() {
    const key = $("api-key");
    try { key.value = sessionStorage.getItem(KEY_STORE) || ""; } catch (e) { /* ignore */ }
    key.addEventListener("input", () => {
      try {
        if (key.value) sessionStorage.setItem(KEY_STORE, key.value);
        else sessionStorage.removeItem(KEY_STORE);
      } catch (e) { /* ignore */ }
    });
    applyLanguage(initialLanguage());
    applyMode("member");
    document.querySelectorAll("button.lang").forEach((b) => b.addEventListener("click", () => applyLanguage(b.dataset.lang)));
    document.querySelectorAll("button.mode").forEach((b) => b.addEventListener("click", () => applyMode(b.dataset.mode)));
    const question = $("question");
    question.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        $("ask-form").requestSubmit();
      }
    });
    $("ask-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = question.value.trim();
      if (!text) { setStatus(t("empty"), true); question.focus(); return; }
      ask(text);
    });
    $("new-conversation").addEventListener("click", newConversation);
    $("panel-close").addEventListener("click", closePanel);
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !$("panel").hidden) closePanel();
    });
    restoreConversation();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
