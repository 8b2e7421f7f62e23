// clotsafe: the only script. No inline scripts (CSP script-src 'self').
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("[data-print]")) {
    window.print();
  }
});

// The client intake: every change is saved at once, and nothing the client did is undone.
// Each question counts its changes (a sequence number, sent with the save); the server applies a
// question's value only when its number is newer than the last one applied, so a slow save
// that arrives late never overwrites a newer answer. When a save comes back, the step is
// redrawn from the server (follow-up questions appear), except the questions the client changed
// again since, or is typing in, or has a finger or button pressed on: those stay exactly as the
// client left them. A block whose server HTML did not change is not redrawn at all: a press that
// began on a block and ended on its replacement would click neither, and the tap would be lost.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form || !window.fetch) {
    return;
  }
  var saveUrl = form.getAttribute("data-save-url");
  var seqs = {}; // question id -> newest sequence number (ours or the server's)
  var deferred = {}; // question id -> redrawn block held back while the client types in it
  var drawn = {}; // question id -> the server HTML its block was last drawn from
  var pressed = ""; // question id under a pointer that is down
  var pending = 0;
  var retries = 0;

  function fields() {
    return document.getElementById("fields");
  }

  function blocks(root) {
    return Array.prototype.filter.call(root.children, function (el) {
      return el.hasAttribute("data-q");
    });
  }

  function serverSeq(block) {
    return parseInt(block.getAttribute("data-seq"), 10) || 0;
  }

  function readSeqs() {
    blocks(fields()).forEach(function (block) {
      var q = block.getAttribute("data-q");
      seqs[q] = Math.max(seqs[q] || 0, serverSeq(block));
    });
  }

  // The block shows what its HTML says (a browser restoring a form's state on "Back" changes
  // it without a change event: then the server's copy is drawn again).
  function drawnIndex(select) {
    var index = 0; // no option marked selected: the first one shows
    Array.prototype.forEach.call(select.options, function (option, i) {
      if (option.defaultSelected) {
        index = i;
      }
    });
    return index;
  }

  function asDrawn(block) {
    return Array.prototype.every.call(block.querySelectorAll("input, textarea, select"), function (el) {
      if (el.tagName === "SELECT") {
        return el.selectedIndex === drawnIndex(el);
      }
      if (el.type === "radio" || el.type === "checkbox") {
        return el.checked === el.defaultChecked;
      }
      return el.value === el.defaultValue;
    });
  }

  function readDrawn() {
    blocks(fields()).forEach(function (block) {
      drawn[block.getAttribute("data-q")] = block.outerHTML;
    });
  }

  function questionOf(el) {
    var block = el && el.closest ? el.closest("#fields > [data-q]") : null;
    return block ? block.getAttribute("data-q") : "";
  }

  function shown() {
    return blocks(fields())
      .map(function (b) {
        return b.getAttribute("data-q");
      })
      .join(",");
  }

  function typing(el) {
    if (!el || !el.tagName) {
      return false;
    }
    if (el.tagName === "TEXTAREA") {
      return true;
    }
    return el.tagName === "INPUT" && /^(text|date|number|search|tel)$/.test(el.type);
  }

  function status(text) {
    var box = document.getElementById("save-status");
    if (box) {
      box.textContent = text;
    }
  }

  function busy(delta) {
    pending += delta;
    form.classList.toggle("htmx-request", pending > 0);
  }

  function payload() {
    var data = new FormData(form);
    Object.keys(seqs).forEach(function (q) {
      data.set("seq-" + q, String(seqs[q]));
    });
    data.set("shown", shown());
    return data;
  }

  // One save at a time (the newest page state is sent when the one in flight comes back).
  var sending = false;
  var again = false;

  function save() {
    if (sending) {
      again = true;
      return;
    }
    sending = true;
    busy(1);
    fetch(saveUrl, {
      method: "POST",
      body: payload(),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        var to = response.headers.get("HX-Redirect");
        if (to) {
          again = false;
          window.location.assign(to);
          return "";
        }
        if (!response.ok) {
          throw new Error("save failed: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        retries = 0;
        status("");
        if (html) {
          merge(html);
        }
      })
      .catch(function () {
        status(form.getAttribute("data-unsaved"));
        if (retries < 5) {
          retries += 1;
          busy(1);
          window.setTimeout(function () {
            busy(-1);
            save();
          }, 1000 * retries);
        }
      })
      .then(function () {
        sending = false;
        if (again) {
          again = false;
          save();
        }
        busy(-1);
      });
  }

  function keep(q, fresh, html, mine) {
    if ((seqs[q] || 0) > serverSeq(fresh)) {
      return true; // changed again since this save was sent: a newer save is on its way
    }
    if (drawn[q] === html && asDrawn(mine)) {
      return true; // nothing new from the server: the block the client sees stays
    }
    if (q === pressed || (mine.contains(document.activeElement) && typing(document.activeElement))) {
      deferred[q] = fresh; // put in when the client lifts the finger or leaves the field
      return true;
    }
    return false;
  }

  // A block held back is put in once the client is done with it, unless they changed it since.
  function putDeferred(q) {
    var mine = fields().querySelector(":scope > [data-q='" + q + "']");
    var fresh = deferred[q];
    if (!mine || !fresh || q === pressed || mine.contains(document.activeElement)) {
      return;
    }
    delete deferred[q];
    if ((seqs[q] || 0) <= serverSeq(fresh)) {
      mine.replaceWith(document.importNode(fresh, true));
      drawn[q] = fresh.outerHTML;
    }
  }

  // after the event that let go of the block (the focus has moved, the click has been made)
  function putDeferredSoon(q) {
    if (q && deferred[q]) {
      window.setTimeout(function () {
        putDeferred(q);
      }, 0);
    }
  }

  function merge(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("fields");
    var current = fields();
    if (!fresh || !current) {
      return;
    }
    var kept = [];
    var plan = Array.prototype.map.call(fresh.children, function (node) {
      var q = node.getAttribute("data-q");
      var html = q ? node.outerHTML : "";
      var mine = q ? current.querySelector(":scope > [data-q='" + q + "']") : null;
      if (mine && keep(q, node, html, mine)) {
        kept.push(mine);
        return mine;
      }
      if (q) {
        delete deferred[q];
        drawn[q] = html;
      }
      return node;
    });
    // kept nodes never move (moving would take the focus from the field being typed in)
    Array.prototype.slice.call(current.children).forEach(function (node) {
      if (kept.indexOf(node) < 0) {
        node.remove();
      }
    });
    var cursor = null;
    plan.forEach(function (node) {
      var placed = node;
      if (kept.indexOf(node) < 0) {
        placed = document.importNode(node, true);
        current.insertBefore(placed, cursor ? cursor.nextSibling : current.firstChild);
      }
      cursor = placed;
    });
    readSeqs();
  }

  form.addEventListener("change", function (event) {
    var q = questionOf(event.target);
    if (!q) {
      return;
    }
    seqs[q] = (seqs[q] || 0) + 1;
    delete deferred[q];
    save();
  });

  form.addEventListener("focusout", function (event) {
    putDeferredSoon(questionOf(event.target));
  });

  form.addEventListener("pointerdown", function (event) {
    pressed = questionOf(event.target);
  });

  // after the click that the release makes (same task for a mouse; a tap's click is hit-tested
  // anew, so it finds the redrawn block where the old one was)
  function released() {
    var q = pressed;
    pressed = "";
    putDeferredSoon(q);
  }
  document.addEventListener("pointerup", released);
  document.addEventListener("pointercancel", released);

  // Next / Send: the page as it is now is the client's newest word on every question.
  form.addEventListener("submit", function () {
    blocks(fields()).forEach(function (block) {
      var q = block.getAttribute("data-q");
      seqs[q] = (seqs[q] || 0) + 1;
    });
    Object.keys(seqs).forEach(function (q) {
      var input = form.querySelector("input[type=hidden][name='seq-" + q + "']");
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = "seq-" + q;
        form.appendChild(input);
      }
      input.value = String(seqs[q]);
    });
    form.querySelector("input[name=shown]").value = shown();
  });

  readSeqs();
  readDrawn();
})();
