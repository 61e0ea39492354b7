(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.case'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('tbody.area'));
  var area = document.getElementById('area-filter');
  var verdict = document.getElementById('verdict-filter');
  var count = document.getElementById('shown-count');
  function hasOption(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }
  function fromHash() {
    location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      var kv = pair.split('=');
      var value = decodeURIComponent(kv[1] || '');
      var select = kv[0] === 'area' ? area : kv[0] === 'verdict' ? verdict : null;
      if (select && hasOption(select, value)) { select.value = value; }
    });
  }
  // A matrix row lists a verdict (and standing) per target: any matches.
  function has(list, value) {
    return (' ' + (list || '') + ' ').indexOf(' ' + value + ' ') >= 0;
  }
  function matches(row) {
    var v = verdict.value;
    return (!area.value || row.dataset.area === area.value) &&
      (!v || has(row.dataset.verdict, v) || has(row.dataset.standing, v));
  }
  function apply() {
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector('tr.case:not([hidden])');
    });
    count.textContent = String(shown);
    document.body.dataset.shown = String(shown);
  }
  area.addEventListener('change', apply);
  verdict.addEventListener('change', apply);
  fromHash();
  apply();
  document.body.dataset.filters = 'ready';
}());
