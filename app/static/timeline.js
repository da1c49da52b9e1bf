/* The timeline page: reads its filters from the URL, asks the JSON API for the matching
   events and their counts, and renders them grouped by year. No dependencies, no build step;
   everything is built with DOM calls (never innerHTML), so the page runs under a strict CSP. */
(function () {
  "use strict";

  // Parameter names and order are the API's, so the page's query string is an API query.
  var PARAMS = ["from", "to", "match", "actor", "role", "place", "type", "tag", "source", "q", "sort"];
  var FORM_FIELDS = ["q", "from", "to", "match", "actor", "place", "type", "sort"];
  var DEFAULTS = { match: "overlap", sort: "date" };
  var LABELS = {
    from: "From", to: "To", match: "Dates", actor: "Actor", role: "Role", place: "Place",
    type: "Type", tag: "Tag", source: "Source", q: "Search"
  };
  var DATE_RE = /^\d{4}(-\d{2}(-\d{2})?)?$/;
  var PAGE_SIZE = 500;
  var PRECISION = {
    day: "exact day", month: "month known", season: "season known", year: "year known",
    range: "date range"
  };
  // Colour families for the type vocabulary; unknown types fall back to "other".
  var FAMILY = {
    armed_clash: "violence", killing: "violence", assassination_attempt: "violence",
    attack_on_mission: "violence", abduction: "repression", disappearance: "repression",
    arrest: "repression", detention: "repression", sentencing: "repression",
    deportation: "repression", extradition: "repression", ban: "repression",
    designation: "repression", censorship: "repression", media_closure: "repression",
    election: "politics", constitutional_change: "politics", legislation: "politics",
    appointment: "politics", dismissal: "politics", statement: "politics",
    resolution: "politics", mandate_decision: "politics", diplomatic_visit: "diplomacy",
    agreement: "diplomacy", aid: "diplomacy", protest: "society", migration: "society",
    asylum: "society", birth: "society", mission_opened: "diplomacy",
    military_deployment: "diplomacy", negotiation: "diplomacy", policy_change: "politics",
    repression_campaign: "repression", report: "politics"
  };

  var $ = function (id) { return document.getElementById(id); };
  var form = $("filters");
  var list = $("events");
  var names = {}; // "actor:id" -> name, for chips
  var allYears = null; // the unfiltered year counts: the histogram's backdrop
  var shownYears = null; // the year counts the histogram shows now
  var state = { params: new URLSearchParams(), generation: 0, controller: null };
  var detailCache = {};
  var typingTimer = 0;
  var onReady = null; // runs once, after the first list is on screen

  // ---------- small helpers ----------

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") el.textContent = value;
        else if (key === "class") el.className = value;
        else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : value);
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(el, c); });
    else el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
  }

  function humanize(value) {
    return String(value).replace(/_/g, " ");
  }

  function plural(n, word) {
    return n === 1 ? word : word + "s";
  }

  function family(type) {
    return FAMILY[type] || "other";
  }

  function ApiError(status, body) {
    this.status = status;
    this.body = body || {};
    this.message = (body && body.message) || "The server answered " + status + ".";
  }

  function getJSON(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: "application/json" } }).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (!response.ok) throw new ApiError(response.status, body);
          if (body === null) throw new ApiError(response.status, { message: "The server sent an unreadable answer." });
          return body;
        });
      }
    );
  }

  // ---------- the query: URL <-> params <-> form ----------

  /** The canonical form of a query: API parameter order, no empties, no defaults. */
  function canonical(params) {
    var out = new URLSearchParams();
    PARAMS.forEach(function (name) {
      var seen = {};
      params.getAll(name).forEach(function (value) {
        value = value.trim();
        if (!value || DEFAULTS[name] === value || seen[value]) return;
        seen[value] = true;
        out.append(name, value);
      });
    });
    return out;
  }

  function fromLocation() {
    return canonical(new URLSearchParams(location.search));
  }

  /** Form fields hold a parameter's first value; further values live on as chips. */
  function formToParams() {
    var next = new URLSearchParams();
    var data = new FormData(form);
    PARAMS.forEach(function (name) {
      var values = state.params.getAll(name);
      var combined = name === "type" ? combinedOption(form.elements.namedItem("type")) : null;
      if (combined && combined.selected) {
        values = JSON.parse(combined.dataset.values);  // unchanged: every selected type
      } else if (combined) {
        var picked = data.get(name);  // one type picked instead of several: just that one
        values = picked ? [String(picked)] : [];
      } else if (FORM_FIELDS.indexOf(name) >= 0) {
        var value = data.get(name);
        values = [value === null ? "" : String(value)].concat(values.slice(1));
      }
      values.forEach(function (v) { next.append(name, v); });
    });
    return canonical(next);
  }

  function ensureOption(select, value) {
    if (!value) return;
    for (var i = 0; i < select.options.length; i++) if (select.options[i].value === value) return;
    select.appendChild(h("option", { value: value, text: humanize(value) }));
  }

  function combinedOption(select) {
    return select.querySelector("option[data-values]");
  }

  /** A select shows one value; several (type=arrest&type=killing) get one option naming
   *  them all, so the form never shows just the first of them. */
  function showSeveral(select, values) {
    var option = combinedOption(select);
    if (values.length < 2) {
      if (option) option.remove();
      return false;
    }
    if (!option) {
      option = h("option", null);
      select.insertBefore(option, select.options[1] || null);
    }
    option.dataset.values = JSON.stringify(values);
    option.value = "\u0000several";
    option.textContent = values.map(humanize).join(" or ");
    option.selected = true;
    return true;
  }

  function paramsToForm(params) {
    FORM_FIELDS.forEach(function (name) {
      var field = form.elements.namedItem(name);
      var value = params.get(name) || "";
      if (field.type === "checkbox") field.checked = value === field.value;
      else if (field.tagName === "SELECT" && showSeveral(field, params.getAll(name))) {
        // the combined option is selected
      } else {
        if (field.tagName === "SELECT") {
          if (!value) value = field.options[0].value;
          ensureOption(field, value);
        }
        field.value = value;
      }
      field.removeAttribute("aria-invalid");
    });
  }

  function withParam(params, name, value) {
    var next = new URLSearchParams(params);
    next.delete(name);
    if (value) next.append(name, value);
    return next;
  }

  function href(params) {
    var query = canonical(params).toString();
    return query ? "?" + query : location.pathname;
  }

  /** Apply a query: write it to the URL (a new history entry unless `replace`) and load it. */
  function navigate(params, options) {
    options = options || {};
    params = canonical(params);
    var url = href(params) + (options.hash || "");
    // The same view again (Enter after the list already refined) adds no history entry.
    var same = !options.hash && href(params) === href(state.params);
    if (options.replace || same) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    state.params = params;
    paramsToForm(params);
    load(options.hash);
  }

  // A link that applies a filter: a real deep link that the page follows without reloading.
  function filterLink(params, text, attrs) {
    var a = h("a", Object.assign({ href: href(params), text: text }, attrs || {}));
    a.addEventListener("click", function (event) {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button) return;
      event.preventDefault();
      navigate(params);
      if (window.matchMedia("(max-width: 899px)").matches) $("results").focus();
    });
    return a;
  }

  // ---------- loading ----------

  function load(hash) {
    var generation = ++state.generation;
    if (state.controller) state.controller.abort();
    var controller = (state.controller = new AbortController());
    var query = state.params.toString();
    var sep = query ? "&" : "";

    list.setAttribute("aria-busy", "true");
    list.dataset.state = "loading";
    document.body.classList.add("loading");
    hideMessage();
    updateLinks(query);
    renderChips();

    var current = function () { return generation === state.generation; };
    var render = startRender();

    getJSON("/facets?" + query + sep + "size=8", controller.signal)
      .then(function (facets) { if (current()) renderFacets(facets); })
      .catch(function () { /* the list reports errors; counts are a bonus */ });

    function page(cursor) {
      var url = "/events?" + query + sep + "limit=" + PAGE_SIZE +
        (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      return getJSON(url, controller.signal).then(function (body) {
        if (!current()) return;
        render.add(body.items, body.total, body.total_exact !== false);
        if (body.next_cursor) return page(body.next_cursor);
        render.done();
        list.dataset.query = query;
        if (!list.dataset.readyMs) list.dataset.readyMs = String(Math.round(performance.now()));
        list.dataset.state = "ready";
        list.setAttribute("aria-busy", "false");
        document.body.classList.remove("loading");
        if (hash) openFromHash(hash);
        settled();
      });
    }

    page(null).catch(function (error) {
      if (!current() || (error && error.name === "AbortError")) return;
      render.fail();
      shownYears = null;
      clear($("histogram"));
      $("facets").hidden = true;
      list.dataset.query = query;
      list.dataset.state = "error";
      list.setAttribute("aria-busy", "false");
      document.body.classList.remove("loading");
      showError(error);
      settled();
    });
  }

  function settled() {
    var run = onReady;
    onReady = null;
    if (run) run();
  }

  function updateLinks(query) {
    $("json-link").href = "/events" + (query ? "?" + query : "");
    // The download is for spreadsheets: the byte order mark makes Excel read UTF-8.
    $("csv-link").href = "/events.csv?" + (query ? query + "&" : "") + "bom=true";
  }

  // ---------- rendering the list ----------

  function startRender() {
    var fragment = document.createDocumentFragment();
    var group = null;
    var groupYear = null;
    var rendered = 0;
    var first = true;
    var spent = 0; // ms spent building the DOM, for the load-time report

    function newGroup(year) {
      var count = h("span", { class: "year-count" });
      var ol = h("ol", { class: "year-events" });
      var section = h("section", { class: "year", "aria-label": String(year) },
        h("h2", { class: "year-head" }, h("span", { class: "year-num", text: String(year) }), count),
        ol);
      group = { section: section, ol: ol, count: count, n: 0 };
      groupYear = year;
      return section;
    }

    return {
      add: function (items, total, exact) {
        var t0 = performance.now();
        // A count that stopped early (a broad filter, or words) is a lower bound: "1000+".
        $("result-count").textContent = String(total) + (exact ? "" : "+");
        $("result-noun").textContent = plural(total, "event");
        $("empty").hidden = total !== 0;
        items.forEach(function (event) {
          // An open start (`../2017-07-07`) has no year: such events come first, together.
          var year = event.date.slice(0, 2) === ".." ? "Known only to precede a date" : event.start.slice(0, 4);
          if (year !== groupYear) fragment.appendChild(newGroup(year));
          group.ol.appendChild(eventItem(event));
          group.n++;
          group.count.textContent = group.n + " " + plural(group.n, "event");
          rendered++;
        });
        // Swap the old list out only when the first page is in hand: no flash of empty.
        if (first) clear(list);
        first = false;
        list.appendChild(fragment);
        fragment = document.createDocumentFragment();
        spent += performance.now() - t0;
      },
      done: function () {
        list.dataset.rendered = String(rendered);
        list.dataset.renderMs = String(Math.round(spent));
      },
      fail: function () {
        clear(list);
        $("result-count").textContent = "0";
        $("result-noun").textContent = "events";
        $("empty").hidden = true;
      }
    };
  }

  function dateBlock(event) {
    var flags = [];
    if (event.approximate) flags.push(h("span", { class: "flag flag-approx", title: "The source gives this date approximately", text: "approx." }));
    if (event.uncertain) flags.push(h("span", { class: "flag flag-uncertain", title: "The source is unsure of this date", text: "uncertain" }));
    var datetime = event.precision === "day" ? event.start : null;
    return h("div", { class: "when" },
      h("time", { class: "date", datetime: datetime, title: "EDTF " + event.date + " (" + event.start + " to " + event.end + ")", text: event.display_date }),
      h("span", { class: "precision", text: PRECISION[event.precision] || event.precision }),
      flags.length ? h("span", { class: "flags" }, flags) : null);
  }

  function eventItem(event) {
    var detailsId = "d-" + event.id;
    var button = h("button", {
      type: "button", class: "toggle", "aria-expanded": "false", "aria-controls": detailsId
    }, h("span", { class: "title-text", text: event.title }), h("span", { class: "chev", "aria-hidden": "true" }));
    var details = h("div", { class: "details", id: detailsId, hidden: true });
    var who = event.actors.slice(0, 3).map(function (a) { return a.name; });
    if (event.actors.length > 3) who.push("+" + (event.actors.length - 3));
    var where = event.places.map(function (p) { return p.name; });
    var item = h("li", { class: "event fam-" + family(event.type), "data-event-id": event.id, id: "e-" + event.id },
      dateBlock(event),
      h("div", { class: "what" },
        h("h3", { class: "event-title" }, button),
        h("p", { class: "meta" },
          h("span", { class: "type type-" + family(event.type), text: humanize(event.type) }),
          where.length ? h("span", { class: "meta-place", text: where.join(", ") }) : null,
          who.length ? h("span", { class: "meta-actors", text: who.join(", ") }) : null),
        details));
    button.addEventListener("click", function () { toggle(item, event); });
    return item;
  }

  function toggle(item, event, forceOpen) {
    var button = item.querySelector(".toggle");
    var details = item.querySelector(".details");
    var open = forceOpen || button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    item.classList.toggle("open", open);
    details.hidden = !open;
    if (!open || details.dataset.loaded) return Promise.resolve();
    details.dataset.loaded = "loading";
    clear(details);
    details.appendChild(h("p", { class: "summary", text: event.summary }));
    details.appendChild(h("p", { class: "muted loading-note", text: "Loading sources…" }));
    var request = detailCache[event.id] || getJSON("/events/" + encodeURIComponent(event.id));
    detailCache[event.id] = request;
    return request.then(function (detail) {
      clear(details);
      append(details, renderDetail(detail));
      details.dataset.loaded = "yes";
    }).catch(function (error) {
      delete detailCache[event.id];
      delete details.dataset.loaded;
      var note = details.querySelector(".loading-note");
      if (note) {
        note.className = "message inline";
        note.textContent = "The sources for this event could not be loaded: " + (error.message || "network error") + ". Close and reopen to try again.";
      }
    });
  }

  function section(title, body) {
    return h("section", { class: "detail-part" }, h("h4", { text: title }), body);
  }

  function renderDetail(d) {
    var parts = [h("p", { class: "summary", text: d.summary })];

    if (d.actors.length) {
      parts.push(section("Who", h("ul", { class: "people" }, d.actors.map(function (a) {
        names["actor:" + a.id] = a.name;
        return h("li", null,
          filterLink(withParam(new URLSearchParams(), "actor", a.id), a.name, { title: "All events with " + a.name }),
          h("span", { class: "role", text: humanize(a.role) }),
          h("span", { class: "kind", text: humanize(a.kind) }));
      }))));
    }

    if (d.places.length) {
      parts.push(section("Where", h("ul", { class: "places" }, d.places.map(function (p) {
        names["place:" + p.id] = p.name;
        var chain = (p.parents || []).slice().reverse().map(function (q) { return q.name; });
        return h("li", null,
          filterLink(withParam(new URLSearchParams(), "place", p.id), p.name, { title: "All events in " + p.name }),
          chain.length ? h("span", { class: "muted", text: ", " + chain.join(", ") }) : null);
      }))));
    }

    if (d.citations.length) {
      parts.push(section(d.citations.length === 1 ? "The source says" : "The sources say",
        h("ul", { class: "citations" }, d.citations.map(function (c) {
          var s = c.source;
          var title = s.url ? h("a", { href: s.url, rel: "noopener noreferrer", text: s.title }) : h("cite", { text: s.title });
          return h("li", { class: "citation" },
            h("blockquote", { class: "quote", text: c.quote }),
            h("p", { class: "source-line" },
              "— ", s.author ? s.author + ", " : "", title,
              s.publisher ? ", " + s.publisher : "",
              s.published ? " (" + s.published + ")" : ""),
            c.claimed_date ? h("p", { class: "claimed", text: "This source dates it " + c.claimed_date + "." }) : null);
        }))));
    }

    if (d.figures && d.figures.length) {
      parts.push(section("Figures, as each source gives them",
        h("table", { class: "figures" },
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "What" }), h("th", { scope: "col", text: "Number" }), h("th", { scope: "col", text: "Source" }))),
          h("tbody", null, d.figures.map(function (f) {
            var n = f.value !== null && f.value !== undefined ? String(f.value) : [f.low, f.high].filter(function (x) { return x !== null && x !== undefined; }).join("–");
            if (f.approximate) n = "c. " + n;
            if (f.unit) n += " " + f.unit;
            return h("tr", null,
              h("td", { text: humanize(f.metric) }),
              h("td", { class: "num", text: n }),
              h("td", null, h("span", { text: f.source }), f.quote ? h("q", { class: "figure-quote", text: f.quote }) : null));
          })))));
    }

    if (d.notes) parts.push(section("Curator's note", h("p", { class: "notes", text: d.notes })));

    if (d.related && d.related.length) {
      parts.push(section("Related", h("ul", { class: "related" }, d.related.map(function (r) {
        var a = h("a", { href: "/#e-" + r.id, text: r.title });
        a.addEventListener("click", function (event) {
          event.preventDefault();
          var target = document.getElementById("e-" + r.id);
          if (target) {
            history.replaceState(null, "", href(state.params) + "#e-" + r.id);
            openFromHash("#e-" + r.id);
          } else navigate(new URLSearchParams(), { hash: "#e-" + r.id });
        });
        return h("li", null, a, h("span", { class: "muted", text: " · " + r.date }));
      }))));
    }

    var footer = h("p", { class: "detail-foot" });
    if (d.tags.length) {
      append(footer, h("span", { class: "tags" }, d.tags.map(function (t) {
        return filterLink(withParam(state.params, "tag", t), "#" + t, { class: "tag", title: "Add the tag " + t + " to the filters" });
      })));
    }
    append(footer, h("span", { class: "links" },
      h("a", { href: href(state.params) + "#e-" + d.id, text: "Link to this event" }),
      h("a", { href: "/events/" + encodeURIComponent(d.id), text: "JSON" })));
    parts.push(footer);
    return parts;
  }

  function openFromHash(hash) {
    if (!hash || hash.slice(0, 3) !== "#e-") return;
    var item = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!item) return;
    var button = item.querySelector(".toggle");
    if (button.getAttribute("aria-expanded") !== "true") button.click();
    item.scrollIntoView({ block: "start" });
    button.focus({ preventScroll: true });
  }

  // ---------- facets, chips, messages ----------

  function renderFacets(f) {
    var params = state.params;
    $("facets").hidden = false;
    var types = $("facet-type").querySelector("ul");
    clear(types);
    f.type.forEach(function (v) {
      var active = params.getAll("type").indexOf(v.value) >= 0;
      types.appendChild(h("li", null, filterLink(withParam(params, "type", active ? "" : v.value), "", {
        class: "pill type-" + family(v.value) + (active ? " active" : ""),
        "aria-current": active ? "true" : null,
        title: active ? "Remove this filter" : "Only " + humanize(v.value) + " events"
      })));
      var link = types.lastChild.firstChild;
      link.textContent = "";
      append(link, [h("span", { text: humanize(v.value) }), h("span", { class: "n", text: String(v.count) })]);
    });
    if (!f.type.length) types.appendChild(h("li", { class: "muted", text: "None" }));

    [["actor", "actor"], ["place", "place"], ["source", "source"]].forEach(function (pair) {
      var name = pair[0];
      var ul = $("facet-" + name).querySelector("ul");
      clear(ul);
      var max = f[name].reduce(function (m, v) { return Math.max(m, v.count); }, 1);
      f[name].forEach(function (v) {
        names[name + ":" + v.value] = v.label;
        var active = params.getAll(name).indexOf(v.value) >= 0;
        var a = filterLink(withParam(params, name, active ? "" : v.value), "", {
          class: "bar" + (active ? " active" : ""),
          "aria-current": active ? "true" : null,
          title: active ? "Remove this filter" : v.label
        });
        var fill = h("span", { class: "fill", "aria-hidden": "true" });
        fill.style.width = Math.max(3, Math.round((v.count / max) * 100)) + "%";
        append(a, [fill, h("span", { class: "label", text: v.label }), h("span", { class: "n", text: String(v.count) })]);
        ul.appendChild(h("li", null, a));
      });
      $("facet-" + name).hidden = f[name].length === 0;
    });
    shownYears = f.year;
    renderHistogram(f.year);
    renderChips();
  }

  function renderHistogram(years) {
    var box = $("histogram");
    clear(box);
    var backdrop = allYears || years;
    if (!backdrop.length && !years.length) return;
    var counts = {};
    years.forEach(function (y) { counts[y.value] = y.count; });
    var full = {};
    backdrop.forEach(function (y) { full[y.value] = y.count; });
    var keys = backdrop.map(function (y) { return +y.value; }).concat(years.map(function (y) { return +y.value; }));
    var lo = Math.min.apply(null, keys);
    var hi = Math.max.apply(null, keys);
    var max = backdrop.concat(years).reduce(function (m, y) { return Math.max(m, y.count); }, 1);
    var from = state.params.get("from");
    var to = state.params.get("to");
    // Label every decade (or two) where the labels fit: ~44px per label, none crowding the ends.
    var perYear = Math.max(1, box.clientWidth - 24) / (hi - lo + 1);
    var step = perYear * 10 >= 44 ? 10 : perYear * 20 >= 44 ? 20 : 50;
    var gap = Math.ceil(44 / perYear);
    var row = h("div", { class: "hist-bars" });
    var axis = h("div", { class: "hist-axis", "aria-hidden": "true" });
    for (var y = lo; y <= hi; y++) {
      var key = String(y);
      var n = counts[key] || 0;
      var ghost = h("span", { class: "ghost", "aria-hidden": "true" });
      ghost.style.height = ((full[key] || 0) / max) * 100 + "%";
      var bar = h("span", { class: "val", "aria-hidden": "true" });
      bar.style.height = (n / max) * 100 + "%";
      var active = from === key && to === key;
      var col;
      if (n) {
        var next = withParam(withParam(state.params, "from", active ? "" : key), "to", active ? "" : key);
        col = filterLink(next, "", {
          class: "col" + (active ? " active" : ""),
          "aria-label": key + ": " + n + " " + plural(n, "event") + " starting" +
            (active ? " (selected; select again to clear)" : "; select to show every event that may fall in " + key),
          title: key + ": " + n + " " + plural(n, "event") + " starting; select to show every event that may fall in " + key
        });
      } else {
        col = h("span", { class: "col empty-col", title: key + ": none" });
      }
      append(col, [ghost, bar]);
      row.appendChild(col);
      var tick = h("span", { class: "tick" });
      if (y === lo || y === hi || (y % step === 0 && y - lo >= gap && hi - y >= gap)) tick.textContent = key;
      axis.appendChild(tick);
    }
    box.appendChild(row);
    box.appendChild(axis);
  }

  function chipLabel(name, value) {
    if (name === "match") return value === "within" ? "surely within the dates" : value;
    if (name === "type") return humanize(value);
    return names[name + ":" + value] || value;
  }

  function renderChips() {
    var ul = $("chips");
    clear(ul);
    var active = 0;
    state.params.forEach(function (value, name) {
      if (name === "sort") return;
      active++;
      var next = new URLSearchParams();
      var removed = false;
      state.params.forEach(function (v, n) {
        if (!removed && n === name && v === value) { removed = true; return; }
        next.append(n, v);
      });
      ul.appendChild(h("li", null, filterLink(next, "", { class: "chip", title: "Remove this filter" })));
      var link = ul.lastChild.firstChild;
      append(link, [h("span", { class: "chip-name", text: LABELS[name] + ": " }), h("span", { text: chipLabel(name, value) }), h("span", { class: "x", "aria-hidden": "true", text: "×" }), h("span", { class: "visually-hidden", text: " (remove)" })]);
    });
    $("active-count").textContent = active ? String(active) : "";
    ul.hidden = active === 0;
  }

  function hideMessage() {
    var box = $("message");
    box.hidden = true;
    clear(box);
  }

  function showError(error) {
    var box = $("message");
    clear(box);
    var network = !(error instanceof ApiError);
    var title = network ? "The timeline could not be reached." :
      error.status === 422 ? "One of the filters was not understood." : "The timeline could not be loaded.";
    var text = network ? "Check the connection and try again." : error.message;
    box.appendChild(h("p", { class: "message-title", text: title }));
    var details = !network && error.body && Array.isArray(error.body.details) ? error.body.details : [];
    if (details.length) {
      // One line per refused filter, under the name the form shows ("From: month 13 does not exist").
      details.forEach(function (d) {
        var name = String(d.parameter || "").split(".")[0];
        box.appendChild(h("p", { class: "message-detail", text: (LABELS[name] || name) + ": " + d.message }));
        var field = form.elements.namedItem(name);
        if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
      });
    } else {
      box.appendChild(h("p", { text: text }));
    }
    box.appendChild(h("p", null,
      h("button", { type: "button", class: "secondary", text: "Try again", onclick: function () { load(); } }),
      " ",
      h("button", { type: "button", class: "secondary", text: "Clear all filters", onclick: clearAll })));
    box.hidden = false;
  }

  function clearAll() {
    navigate(new URLSearchParams());
  }

  // ---------- one-off context: title, stats, suggestions ----------

  function loadContext() {
    getJSON("/facets?size=1").then(function (f) {
      allYears = f.year;
      $("stat-events").textContent = String(f.total);
      if (f.year.length) {
        var a = f.year[0].value;
        var b = f.year[f.year.length - 1].value;
        $("stat-years").textContent = a === b ? a : a + "–" + b;
      }
      var select = form.elements.namedItem("type");
      var chosen = select.value;
      var values = f.type.map(function (v) { return v.value; });
      for (var i = 1; i < select.options.length; i++) {
        var option = select.options[i];
        if (!option.dataset.values && values.indexOf(option.value) < 0) values.push(option.value);
      }
      while (select.options.length > 1) select.remove(1);
      values.sort().forEach(function (v) { ensureOption(select, v); });
      if (!showSeveral(select, state.params.getAll("type"))) select.value = chosen;
      // Redraw the histogram against the full dataset's span.
      if (shownYears) renderHistogram(shownYears);
    }).catch(function () {});

    [["sources", "stat-sources"], ["actors", "stat-actors"], ["places", "stat-places"]].forEach(function (pair) {
      // /sources is one short list and takes no parameters (unknown ones are refused).
      getJSON("/" + pair[0] + (pair[0] === "sources" ? "" : "?limit=500")).then(function (body) {
        $(pair[1]).textContent = String(body.total);
        var listId = pair[0] === "actors" ? "actor-list" : pair[0] === "places" ? "place-list" : null;
        if (!listId) return;
        var dl = $(listId);
        var kind = pair[0].slice(0, -1);
        body.items.forEach(function (item) {
          names[kind + ":" + item.id] = item.name;
          dl.appendChild(h("option", { value: item.name, label: humanize(item.kind) }));
        });
        renderChips();
      }).catch(function () {});
    });

    getJSON("/openapi.json").then(function (spec) {
      var title = spec.info && spec.info.title;
      if (title) {
        $("dataset-title").textContent = title;
        document.title = title + " — timeline";
      }
    }).catch(function () {});
  }

  // ---------- wiring ----------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(typingTimer);
    navigate(formToParams());
  });

  // A name typed into the actor or place field is sent when the field is left, or once
  // it is a name the suggestions hold: half a name matches nothing and answers an error.
  function isTypedName(t) { return t.name === "actor" || t.name === "place"; }

  function isKnownName(t) {
    var value = t.value.trim().toLowerCase();
    return Array.prototype.some.call(t.list ? t.list.options : [], function (option) {
      return option.value.toLowerCase() === value;
    });
  }

  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t.tagName === "SELECT" || t.type === "checkbox" || isTypedName(t)) {
      clearTimeout(typingTimer);
      var next = formToParams();
      // Leaving a name field that already refined the list changes nothing.
      if (isTypedName(t) && href(next) === href(state.params)) return;
      navigate(next);
    }
  });

  // Typing refines the list after a pause; it replaces the history entry rather than
  // adding one per keystroke. A half-typed date waits until it is a date.
  form.addEventListener("input", function (event) {
    var t = event.target;
    if (t.tagName !== "INPUT" || t.type === "checkbox") return;
    clearTimeout(typingTimer);
    if (isTypedName(t) && t.value.trim() && !isKnownName(t)) return;
    typingTimer = setTimeout(function () {
      var from = form.elements.namedItem("from").value.trim();
      var to = form.elements.namedItem("to").value.trim();
      if ((from && !DATE_RE.test(from)) || (to && !DATE_RE.test(to))) return;
      var next = formToParams();
      if (next.toString() !== state.params.toString()) navigate(next, { replace: true });
    }, 450);
  });

  $("clear").addEventListener("click", clearAll);
  $("empty-clear").addEventListener("click", clearAll);

  $("panel-toggle").addEventListener("click", function () {
    var open = this.getAttribute("aria-expanded") !== "true";
    this.setAttribute("aria-expanded", String(open));
    document.querySelector(".sidebar").classList.toggle("open", open);
  });

  window.addEventListener("popstate", function () {
    state.params = fromLocation();
    paramsToForm(state.params);
    load(location.hash);
  });

  window.addEventListener("hashchange", function () { openFromHash(location.hash); });

  // Start: the URL is the source of truth. Normalise it (drop empties, limit, cursor).
  state.params = fromLocation();
  history.replaceState(null, "", href(state.params) + location.hash);
  paramsToForm(state.params);
  // The header's counts and the suggestions wait for the list: it comes first.
  onReady = loadContext;
  load(location.hash);
})();
