// The catalog's search and filters: the home page lists every model without this script; with it, the
// list narrows to the models that match, using the index the build wrote (search-index.js). No network.
(function () {
  "use strict";
  var index = window.gitregIndex;
  var form = document.getElementById("filters");
  if (!index || !form) {
    return;
  }
  var query = document.getElementById("q");
  var selects = {
    stage: document.getElementById("f-stage"),
    owner: document.getElementById("f-owner"),
    tag: document.getElementById("f-tag"),
    framework: document.getElementById("f-framework")
  };
  var count = document.getElementById("count");
  var none = document.getElementById("none");
  var items = {};
  Array.prototype.forEach.call(document.querySelectorAll("#models > li[data-model]"), function (li) {
    items[li.getAttribute("data-model")] = li;
  });
  var models = index.models.map(function (m) {
    var text = [m.name, m.description, m.owners.join(" "), m.tags.join(" "), m.framework,
      Object.keys(m.stages).join(" ")].join(" ").toLowerCase();
    return { model: m, text: text };
  });

  function matches(entry, words, wanted) {
    var m = entry.model;
    for (var i = 0; i < words.length; i++) {
      if (entry.text.indexOf(words[i]) < 0) {
        return false;
      }
    }
    if (wanted.stage && !Object.prototype.hasOwnProperty.call(m.stages, wanted.stage)) {
      return false;
    }
    if (wanted.owner && m.owners.indexOf(wanted.owner) < 0) {
      return false;
    }
    if (wanted.tag && m.tags.indexOf(wanted.tag) < 0) {
      return false;
    }
    return !(wanted.framework && m.framework !== wanted.framework);
  }

  function apply() {
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = {};
    Object.keys(selects).forEach(function (key) {
      wanted[key] = selects[key] ? selects[key].value : "";
    });
    var shown = 0;
    models.forEach(function (entry) {
      var li = items[entry.model.name];
      if (!li) {
        return;
      }
      var visible = matches(entry, words, wanted);
      li.hidden = !visible;
      shown += visible ? 1 : 0;
    });
    count.textContent = shown === models.length ? models.length + " models" : shown + " of " + models.length + " models";
    none.hidden = shown !== 0;
  }

  form.hidden = false;
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
  });
  apply();
}());
